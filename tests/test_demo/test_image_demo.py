import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmhandobj.structures import box_iou

REPO = Path(__file__).parents[2]
DEMO = REPO / 'demo' / 'image_demo.py'
H, W = 240, 320


def run_demo(*args):
    return subprocess.run([sys.executable, str(DEMO), *args], cwd=REPO, capture_output=True,
                          text=True, timeout=300)


def test_help_explains_the_inputs(monkeypatch, capsys, load_demo):
    demo = load_demo('image_demo')
    monkeypatch.setattr(sys, 'argv', ['image_demo.py', '--help'])
    with pytest.raises(SystemExit) as exit_info:
        demo.parse_args()
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for flag in ('--hand-bbox', '--obj-bbox', '--cam-intr', '--obj-name', '--obj-model-root',
                 '--root', '--out', '--device', 'RELATIVE TO THE WRIST'):
        assert flag in text


def test_demo_end_to_end(tmp_path, tiny_hfl):
    config, ckpt = tiny_hfl
    rng = np.random.default_rng(0)
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), rng.integers(0, 255, (H, W, 3), dtype=np.uint8))
    (tmp_path / 'models' / 'cube').mkdir(parents=True)
    np.savetxt(tmp_path / 'models' / 'cube' / 'points.xyz', rng.uniform(-0.04, 0.04, (50, 3)))
    out = tmp_path / 'out' / 'vis.jpg'
    result = run_demo(str(img), config, ckpt, '--hand-bbox', '40', '50', '150', '170',
                      '--obj-bbox', '120', '80', '260', '200', '--obj-name', 'cube',
                      '--obj-model-root', str(tmp_path / 'models'), '--cam-intr', '300', '300',
                      '160', '120', '--root', '0.0', '0.0', '0.5', '--out', str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    picture = cv2.imread(str(out))
    assert picture.shape == (H, W, 3)
    lines = result.stdout.splitlines()
    wrist = next(line for line in lines if line.strip().startswith('wrist '))
    assert [float(v) for v in wrist.split()[1:]] == pytest.approx([0.0, 0.0, 0.0], abs=1e-3)
    assert sum(line.strip().startswith(('thumb_', 'index_', 'pinky_')) for line in lines) == 12
    assert sum(line.strip().startswith('R ') for line in lines) == 3
    assert any(line.strip().startswith('t (m)') for line in lines)


def test_demo_refuses_a_box_outside_the_image(tmp_path, tiny_hfl, run_main):
    config, ckpt = tiny_hfl
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.zeros((H, W, 3), np.uint8))
    message, _, _ = run_main('image_demo', img, config, ckpt, '--hand-bbox', 400, 50, 450, 170,
                             '--obj-bbox', 120, 80, 260, 200, '--cam-intr', 300, 300, 160, 120,
                             '--out', tmp_path / 'vis.jpg')
    assert f'hand_bboxes[0]: box [400.0, 50.0, 450.0, 170.0] lies entirely outside the {W}x{H}' \
        in message
    assert not (tmp_path / 'vis.jpg').exists()


def _tight(points):
    return np.r_[np.min(points, 0), np.max(points, 0)]


def test_demo_without_boxes_finds_the_hand_and_the_object(tmp_path, tiny_hfl, tiny_detector,
                                                          run_main):
    det_config, det_ckpt, root, infos = tiny_detector
    info = infos[0]
    out = tmp_path / 'vis.png'
    message, stdout, _ = run_main('image_demo', info['img_path'], *tiny_hfl, '--det-config',
                                  det_config, '--det-checkpoint', det_ckpt, '--obj-model-root',
                                  f'{root}/models', '--out', out)
    assert message == ''
    assert 'no --cam-intr: assuming fx = fy = 640.0' in stdout
    found = {}
    for line in stdout.splitlines():
        if line.startswith('detected '):
            kind = line.split()[1]
            found[kind] = ([float(v) for v in line.split('box ')[1].split()[:4]],
                           line.split('(')[1].split(',')[0])
    assert box_iou(_tight(info['joints2d']), [found['hand:'][0]])[0] >= 0.5
    assert box_iou(_tight(info['obj_kps2d']), [found['object:'][0]])[0] >= 0.5
    assert found['object:'][1] == info['obj_name'] and found['hand:'][1] == 'right'
    assert cv2.imread(str(out)).shape == (480, 640, 3)


def test_demo_refuses_a_detector_config_of_the_wrong_kind(tmp_path, tiny_hfl, run_main):
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.zeros((H, W, 3), np.uint8))
    message, _, _ = run_main('image_demo', img, *tiny_hfl, '--det-config', tiny_hfl[0],
                             '--det-checkpoint', tiny_hfl[1])
    assert 'is not a detector config' in message and 'HandObjectDetector' in message


def test_missing_object_model_gives_the_hand_only(tmp_path, tiny_hfl, run_main):
    img = tmp_path / 'img.png'
    cv2.imwrite(str(img), np.full((H, W, 3), 90, np.uint8))
    (tmp_path / 'models').mkdir()
    message, stdout, stderr = run_main(
        'image_demo', img, *tiny_hfl, '--hand-bbox', 40, 50, 150, 170, '--obj-bbox', 120, 80,
        260, 200, '--obj-name', 'teapot', '--obj-model-root', tmp_path / 'models',
        '--cam-intr', 300, 300, 160, 120, '--out', tmp_path / 'vis.jpg')
    assert message == ''
    assert f"object 'teapot': unknown object name 'teapot': no model at " \
        f"{tmp_path / 'models' / 'teapot' / 'points.xyz'}" in stderr
    assert 'object pose: not estimated' in stdout and 'wrist ' in stdout
    assert cv2.imread(str(tmp_path / 'vis.jpg')).shape == (H, W, 3)
