"""Demos and tools never write over their inputs; bad inputs stop them before any output."""
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmhandobj.apis.inferencers import tracking
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite
from tests.test_demo.conftest import import_demo

REPO = Path(__file__).parents[2]
HFL_CONFIG = str(REPO / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')
DET_CONFIG = str(REPO / 'configs' / 'det' / 'fcos_mbv3s_synthetic.py')


def _main(name: str, argv, monkeypatch) -> str:
    """Run ``demo/<name>.py`` in this process; what it exited with."""
    monkeypatch.setattr(sys, 'argv', [f'{name}.py', *argv])
    with pytest.raises(SystemExit) as info:
        import_demo(name).main()
    return str(info.value)


def _frames(folder: Path, sizes) -> None:
    folder.mkdir()
    for k, (h, w) in enumerate(sizes):
        cv2.imwrite(str(folder / f'{k:04d}.png'), np.full((h, w, 3), 9 * k, np.uint8))


def test_refuse_overwrite_same_file_links_and_frames_of_an_input_folder(tmp_path):
    image = tmp_path / 'in.png'
    image.write_bytes(b'x')
    (tmp_path / 'link.png').symlink_to(image)
    (tmp_path / 'hard.png').hardlink_to(image)
    for alias in ('in.png', './in.png', 'link.png', 'hard.png'):
        with pytest.raises(OverwriteError, match=rf'{alias}: it is the input {image}'):
            refuse_overwrite([str(image)], [str(tmp_path / alias)])
    _frames(tmp_path / 'frames', [(4, 4)])
    with pytest.raises(OverwriteError, match='replace a file of the input folder'):
        refuse_overwrite([str(tmp_path / 'frames')], [str(tmp_path / 'frames' / '0000.png')])
    refuse_overwrite([str(image), None, '0'], [str(tmp_path / 'out.png'), None])  # fine


def test_image_demo_out_equal_to_its_input_is_refused(tmp_path, monkeypatch):
    image = tmp_path / 'in.png'
    cv2.imwrite(str(image), np.zeros((8, 8, 3), np.uint8))
    before = image.read_bytes()
    message = _main('image_demo', [str(image), HFL_CONFIG, 'none.pth', '--out', str(image)],
                    monkeypatch)
    assert f'refusing to write {image}: it is the input {image}' in message
    assert image.read_bytes() == before


@pytest.mark.parametrize('target', ['video', 'jsonl'])
def test_video_demo_outputs_over_its_inputs_are_refused(tmp_path, monkeypatch, target):
    video = tmp_path / 'in.mp4'
    video.write_bytes(b'not read')
    out = ['--out', str(video)] if target == 'video' else [
        '--out', str(tmp_path / 'o.mp4'), '--out-json', str(video)]
    message = _main('video_demo', [str(video), HFL_CONFIG, 'c.pth', '--det-config', DET_CONFIG,
                                   '--det-checkpoint', 'd.pth', *out], monkeypatch)
    assert f'refusing to write {video}: it is the input {video}' in message
    assert video.read_bytes() == b'not read'


def test_video_demo_folder_of_frames_of_two_sizes_stops_before_any_output(tmp_path,
                                                                         monkeypatch):
    _frames(tmp_path / 'frames', [(40, 60), (40, 60), (30, 60)])
    out = tmp_path / 'out.mp4'
    message = _main('video_demo', [str(tmp_path / 'frames'), HFL_CONFIG, 'c.pth',
                                   '--det-config', DET_CONFIG, '--det-checkpoint', 'd.pth',
                                   '--out', str(out)], monkeypatch)
    assert 'frame 0002.png is 60 x 30 pixels but 0000.png is 60 x 40' in message
    assert not out.exists() and not (tmp_path / 'out.jsonl').exists()


def test_video_demo_detector_config_as_config_stops_before_any_output(tmp_path, monkeypatch):
    _frames(tmp_path / 'frames', [(40, 60)])
    out = tmp_path / 'out.mp4'
    message = _main('video_demo', [str(tmp_path / 'frames'), DET_CONFIG, 'c.pth',
                                   '--det-config', DET_CONFIG, '--det-checkpoint', 'd.pth',
                                   '--out', str(out)], monkeypatch)
    assert f'{DET_CONFIG} is a detector config' in message
    assert not out.exists()


def test_detections_of_unknown_categories_are_ignored_and_said_once(monkeypatch):
    said = []
    monkeypatch.setattr(tracking, 'print_log', lambda msg, **kwargs: said.append(msg))
    dets = [dict(bbox=np.array([0., 0, 9, 9]), score=0.99, category_id=0),
            dict(bbox=np.array([1., 1, 5, 5]), score=0.9, category_id=1),
            dict(bbox=np.array([2., 2, 8, 8]), score=0.8, category_id=3),
            dict(bbox=np.array([0., 0, 9, 9]), score=0.95, category_id=99)]
    tracker = tracking.BoxTracker(score_thr=0.3, track_iou=0.3)
    for _ in range(2):
        tracker.update(dets)
        assert tracker.hand['bbox'].tolist() == [1, 1, 5, 5]
        assert tracker.obj['bbox'].tolist() == [2, 2, 8, 8]
    assert len(said) == 1 and 'unknown category ids [0, 99] ignored' in said[0]
