"""video_demo.py end to end on a short synthetic clip written with OpenCV's VideoWriter."""
import json
import os.path as osp
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).parents[2]
DEMO = REPO / 'demo' / 'video_demo.py'
NUM_FRAMES = 5


def _run(*args):
    return subprocess.run([sys.executable, str(DEMO), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=600)


def test_clip_gives_an_mp4_and_a_json_line_per_frame(tmp_path, tiny_hfl, tiny_detector):
    det_config, det_ckpt, root, infos = tiny_detector
    seq_dir = osp.dirname(infos[0]['img_path'])
    frames = sorted(Path(seq_dir).glob('*.png'))[:NUM_FRAMES]
    clip = tmp_path / 'clip.mp4'
    writer = cv2.VideoWriter(str(clip), cv2.VideoWriter_fourcc(*'mp4v'), 30.0, (640, 480))
    for frame in frames:
        writer.write(cv2.imread(str(frame)))
    writer.release()
    out = tmp_path / 'out' / 'track.mp4'
    result = _run(str(clip), *tiny_hfl, '--det-config', det_config, '--det-checkpoint',
                  det_ckpt, '--obj-model-root', f'{root}/models', '--det-interval', '2',
                  '--batch-size', '2', '--smooth', '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    cap = cv2.VideoCapture(str(out))
    read = 0
    while cap.read()[0]:
        read += 1
    assert read == len(frames)
    lines = [json.loads(line) for line in (tmp_path / 'out' / 'track.jsonl').read_text()
             .splitlines()]
    header, records = lines[0]['header'], lines[1:]
    assert header['fps'] == 30.0 and 'mm' in header['units']['hand_joints_mm']
    assert [r['frame'] for r in records] == list(range(len(frames)))
    for rec in records:
        assert rec['status'] in ('ok', 'no_detection')
        if rec['status'] == 'ok':
            assert len(rec['hand_joints_mm']) == 21 and len(rec['obj_trans_m']) == 3


def _read_jsonl(path):
    lines = [json.loads(line) for line in Path(path).read_text().splitlines()]
    return lines[0]['header'], lines[1:]


def test_missing_object_model_keeps_the_run_going(tmp_path, tiny_hfl, tiny_detector, run_main):
    det_config, det_ckpt, _, infos = tiny_detector
    frames = tmp_path / 'frames'
    frames.mkdir()
    for k in (0, 1):
        cv2.imwrite(str(frames / f'{k:04d}.png'), cv2.imread(infos[0]['img_path']))
    empty_models = tmp_path / 'no_models'
    empty_models.mkdir()
    out = tmp_path / 'track.mp4'
    message, stdout, stderr = run_main(
        'video_demo', frames, *tiny_hfl, '--det-config', det_config, '--det-checkpoint',
        det_ckpt, '--obj-model-root', empty_models, '--smooth', '--out', out)
    assert message == ''
    _, records = _read_jsonl(tmp_path / 'track.jsonl')
    assert [r['status'] for r in records] == ['hand_only', 'hand_only']
    missing = empty_models / infos[0]['obj_name'] / 'points.xyz'
    assert stderr.count(f'no model at {missing}') == 1  # said once, not per frame
    for rec in records:
        assert rec['obj_name'] == infos[0]['obj_name'] and str(missing) in rec['obj_issue']
        assert rec['obj_rot'] is None and rec['obj_trans_m'] is None
        assert len(rec['hand_joints_mm']) == 21
    assert '0 without detection, 2 hand only' in stdout
    cap = cv2.VideoCapture(str(out))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 2


def test_unreadable_video_is_named(tmp_path, tiny_hfl, tiny_detector, run_main):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(b'not a video')
    message, _, _ = run_main('video_demo', bad, *tiny_hfl, '--det-config', tiny_detector[0],
                             '--det-checkpoint', tiny_detector[1], '--out', tmp_path / 'x.mp4')
    assert 'broken.mp4: cannot read a frame' in message


def test_detector_config_of_the_wrong_kind_is_named(tmp_path, tiny_hfl, run_main):
    frames = tmp_path / 'frames'
    frames.mkdir()
    cv2.imwrite(str(frames / '0000.png'), np.zeros((48, 64, 3), np.uint8))
    message, _, _ = run_main('video_demo', frames, *tiny_hfl, '--det-config', tiny_hfl[0],
                             '--det-checkpoint', tiny_hfl[1], '--out', tmp_path / 'x.mp4')
    assert 'is not a detector config' in message and 'HandObjectDetector' in message
