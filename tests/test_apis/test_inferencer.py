"""HandObjectInferencer end to end on synthetic frames with a tiny random model."""
import glob
import json
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmhandobj.apis import HandObjectInferencer, inference_handobj, init_model
from mmhandobj.apis.inferencers import hand_object_inferencer as inferencer_module
from mmhandobj.apis.inferencers import read_obj_mesh
from mmhandobj.apis.inferencers import tracking as tracking_module
from mmhandobj.registry import INFERENCERS
from tests.test_demo.conftest import write_det_config

BOXES = dict(hand_bbox=[262, 161, 358, 320], obj_bbox=[183, 160, 396, 320])
CAM = [614.6, 614.0, 312.4, 236.1]
ROOT = [0.02, -0.01, 0.6]


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, quickstart_config, tiny_options):
    """``(config, checkpoint, world root)``: the tiny quick-start model, random weights."""
    folder = tmp_path_factory.mktemp('inferencer')
    world = tiny_options['test_dataloader.dataset.data_root']
    cfg = folder / 'tiny.py'
    opts = ''.join(f'\n# {k}' for k in tiny_options)
    cfg.write_text(f'_base_ = [{quickstart_config!r}]{opts}\n'
                   'model = dict(neck=dict(out_channels=32), '
                   'obj_to_hand_fusion=dict(in_channels=32), '
                   'hand_to_obj_fusion=dict(in_channels=32), '
                   'hand_head=dict(in_channels=32, mano_hidden=[64, 32]), '
                   'obj_head=dict(in_channels=32))\n'
                   f'test_dataloader = dict(dataset=dict(data_root={world!r}))\n')
    torch.manual_seed(0)
    ckpt = folder / 'tiny.pth'
    torch.save(dict(state_dict=init_model(str(cfg)).state_dict()), ckpt)
    return str(cfg), str(ckpt), world


@pytest.fixture(scope='module')
def inferencer(tiny):
    return INFERENCERS.build(dict(type='HandObjectInferencer', model=tiny[0], weights=tiny[1]))


def frames(world, num=2):
    paths = sorted(glob.glob(osp.join(world, 'train', '*', 'rgb', '*.png')))[:num]
    assert len(paths) == num
    return paths


def test_registered_and_model_zoo_names(inferencer):
    assert isinstance(inferencer, HandObjectInferencer)
    with pytest.raises(FileNotFoundError, match='model-zoo name'):
        HandObjectInferencer('no_such_model')
    with pytest.raises(ValueError, match='hand_bbox and obj_bbox'):
        next(inferencer(np.zeros((8, 8, 3), np.uint8)))


def test_folder_with_an_unreadable_file(inferencer, tiny, tmp_path, monkeypatch):
    said = []
    for module in (inferencer_module, tracking_module):
        monkeypatch.setattr(module, 'print_log', lambda msg, **kwargs: said.append(msg))
    folder = tmp_path / 'frames'
    folder.mkdir()
    for path in frames(tiny[2]):
        shutil.copy(path, folder)
    (folder / 'zz_broken.png').write_bytes(b'not a png')
    out = tmp_path / 'out'
    recs = list(inferencer(str(folder), **BOXES, obj_name='no_such_object', cam_intr=CAM,
                           out_dir=str(out), batch_size=2, mesh_formats=('ply', )))
    assert [r['status'] for r in recs] == ['hand_only', 'hand_only', 'unreadable']
    log = '\n'.join(said)
    assert 'zz_broken.png: skipped, not a readable image' in log
    # The unknown object is said once, not per frame.
    assert log.count("object 'no_such_object'") == 1
    for rec in recs[:2]:
        assert np.asarray(rec['hand_joints_mm']).shape == (21, 3)
        assert np.asarray(rec['hand_joints2d_px']).shape == (21, 2)
        assert rec['obj_rot'] is None and 'no_such_object' in rec['obj_issue']
        saved = json.loads((out / 'predictions' / f'{rec["name"]}.json').read_text())
        assert saved['hand_joints_mm'] == rec['hand_joints_mm']
        assert saved['camera'] == dict(zip(('fx', 'fy', 'cx', 'cy'), CAM))
        assert (out / 'visualizations' / f'{rec["name"]}.png').is_file()
    assert not (out / 'predictions' / 'zz_broken.json').exists()


def test_meshes_are_the_hand_at_the_wrist_and_the_posed_object(inferencer, tiny, tmp_path):
    trimesh = pytest.importorskip('trimesh')
    img = frames(tiny[2], 1)[0]
    name = sorted(n for n in glob.glob(osp.join(tiny[2], 'models', '*')))[0]
    name = osp.basename(name)
    rec = next(inferencer(img, **BOXES, obj_name=name, cam_intr=CAM, root_joint=ROOT,
                          hand_side='left', out_dir=str(tmp_path)))
    assert rec['status'] == 'ok' and rec['hand_root_m'] == ROOT
    # Independent: the same frame through inference_handobj, un-mirrored by hand.
    sample = inference_handobj(inferencer.model, img, BOXES['hand_bbox'], BOXES['obj_bbox'],
                               CAM, obj_name=name, hand_side='left',
                               obj_model_root=osp.join(tiny[2], 'models'))
    hand = sample.pred_instances.hand_verts3d[0] * np.array([-1.0, 1.0, 1.0]) + ROOT
    obj_v, obj_f = read_obj_mesh(osp.join(tiny[2], 'models', name, 'textured_simple.obj'))
    rot, trans = sample.pred_instances.obj_rot[0], sample.pred_instances.obj_trans[0]
    expected = np.concatenate([hand, obj_v @ rot.T + trans])
    ply = trimesh.load(osp.join(tmp_path, 'meshes', f'{rec["name"]}.ply'), process=False)
    np.testing.assert_allclose(ply.vertices, expected, atol=2e-6)
    assert len(ply.faces) == 1538 + len(obj_f)
    glb = trimesh.load(osp.join(tmp_path, 'meshes', f'{rec["name"]}.glb'), process=False)
    verts = np.concatenate([g.vertices for g in glb.geometry.values()])
    # glTF stores (x, -y, -z): y up, z towards the viewer.
    np.testing.assert_allclose(verts * [1.0, -1.0, -1.0], expected, atol=1e-5)


def test_video_writes_json_lines_and_mp4(inferencer, tiny, tmp_path):
    video = str(tmp_path / 'clip.mp4')
    images = [cv2.imread(p) for p in frames(tiny[2], 3)]
    writer = cv2.VideoWriter(video, cv2.VideoWriter_fourcc(*'mp4v'), 10.0,
                             images[0].shape[1::-1])
    for image in images:
        writer.write(image)
    writer.release()
    recs = list(inferencer(video, **BOXES, cam_intr=CAM, out_dir=str(tmp_path / 'out'),
                           smooth=True, batch_size=2, mesh_formats=()))
    assert [r['frame'] for r in recs] == [0, 1, 2]
    lines = (tmp_path / 'out' / 'predictions' / 'clip.jsonl').read_text().splitlines()
    header = json.loads(lines[0])['header']
    assert header['fps'] == pytest.approx(10.0) and 'hand_joints_mm' in header['units']
    assert [json.loads(line)['frame'] for line in lines[1:]] == [0, 1, 2]
    cap = cv2.VideoCapture(str(tmp_path / 'out' / 'visualizations' / 'clip.mp4'))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3


@pytest.fixture(scope='module')
def with_detector(tiny, tmp_path_factory):
    """The tiny model with a randomly initialised small synthetic detector."""
    det_config = write_det_config(tmp_path_factory.mktemp('det') / 'det.py')
    return HandObjectInferencer(tiny[0], tiny[1], det_model=det_config)


def test_frames_without_a_detection_are_marked(with_detector, tiny, tmp_path):
    # No detection scores above 1: every frame goes through the detector and finds nothing.
    recs = list(with_detector(frames(tiny[2], 2), cam_intr=CAM, det_score_thr=1.01,
                              sequence=True, out_dir=str(tmp_path), mesh_formats=()))
    assert [r['status'] for r in recs] == ['no_detection'] * 2
    assert all('hand_joints_mm' not in r for r in recs)
    lines = (tmp_path / 'predictions' / 'images.jsonl').read_text().splitlines()
    assert [json.loads(line)['status'] for line in lines[1:]] == ['no_detection'] * 2


def test_det_interval_keeps_the_boxes_between_detections(with_detector, tiny, monkeypatch):
    calls = []

    def fake_detect(detector, imgs):
        # A hand and an object that move 3 px per detector call.
        shift = 3.0 * len(calls)
        calls.append(shift)
        return [[dict(bbox=np.array(BOXES['hand_bbox'], float) + shift, score=0.9,
                      category_id=1),
                 dict(bbox=np.array(BOXES['obj_bbox'], float) + shift, score=0.8,
                      category_id=3)]]

    monkeypatch.setattr(inferencer_module, 'detect_hand_object', fake_detect)
    images = [cv2.imread(frames(tiny[2], 1)[0])] * 5
    recs = list(with_detector(images, cam_intr=CAM, det_interval=3, batch_size=2,
                              sequence=True, mesh_formats=()))
    assert len(calls) == 2  # frames 0 and 3
    expected = [0.0, 0.0, 0.0, 3.0, 3.0]
    for rec, shift in zip(recs, expected):
        assert rec['status'] == 'hand_only'  # category 3 has no model in the tiny world
        assert rec['hand_box_px'] == pytest.approx(np.add(BOXES['hand_bbox'], shift))
        assert rec['obj_box_px'] == pytest.approx(np.add(BOXES['obj_bbox'], shift))
        assert rec['hand_side'] == 'right' and rec['hand_score'] == 0.9


class _BrokenSecondFrame:
    """A ``cv2.VideoCapture`` stand-in of 3 frames whose second cannot be decoded."""

    def __init__(self, images):
        self.images, self.pos = images, 0

    def isOpened(self):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_FRAME_COUNT: 3}[prop]

    def read(self):
        self.pos += 1
        if self.pos > 3 or self.pos == 2:
            return False, None
        return True, self.images[self.pos - 1]

    def release(self):
        pass


def test_unreadable_video_frame_is_skipped_with_a_warning(inferencer, tiny, tmp_path,
                                                           monkeypatch):
    said = []
    monkeypatch.setattr(inferencer_module, 'print_log', lambda msg, **kwargs: said.append(msg))
    image = cv2.imread(frames(tiny[2], 1)[0])
    monkeypatch.setattr(inferencer_module.cv2, 'VideoCapture',
                        lambda source: _BrokenSecondFrame([image] * 3))
    video = tmp_path / 'clip.mp4'
    video.write_bytes(b'read through the stand-in')
    recs = list(inferencer(str(video), **BOXES, cam_intr=CAM, out_dir=str(tmp_path / 'out'),
                           mesh_formats=()))
    assert [r['status'] for r in recs] == ['hand_only', 'unreadable', 'hand_only']
    assert f'{video}: frame 1 unreadable, skipped' in said
    lines = (tmp_path / 'out' / 'predictions' / 'clip.jsonl').read_text().splitlines()
    assert [json.loads(line)['status'] for line in lines[1:]] == [r['status'] for r in recs]


def _one_euro_second_step(x1, x2, fps, beta, min_cutoff=1.0, d_cutoff=1.0):
    """The One-Euro filter's output at its second sample, written out (Casiez et al. 2012)."""
    dt = 1.0 / fps

    def alpha(cutoff):
        return 1.0 / (1.0 + 1.0 / (2 * np.pi * cutoff * dt))
    speed = alpha(d_cutoff) * (x2 - x1) / dt  # the speed estimate starts at zero
    a = alpha(min_cutoff + beta * np.abs(speed))
    return a * x2 + (1 - a) * x1


def test_smooth_is_the_one_euro_filter_over_the_frames(inferencer, tiny):
    images = [cv2.imread(p) for p in frames(tiny[2], 2)]
    raw = list(inferencer(images, **BOXES, cam_intr=CAM, sequence=True, mesh_formats=()))
    smooth = list(inferencer(images, **BOXES, cam_intr=CAM, sequence=True, smooth=True,
                             mesh_formats=()))
    fps = inferencer_module.DEFAULT_FPS
    for key, beta, unit in (('hand_joints2d_px', 0.005, 1.0), ('hand_joints_mm', 5.0, 1e-3)):
        x1, x2 = (np.asarray(r[key]) * unit for r in raw)
        assert np.asarray(smooth[0][key]) == pytest.approx(x1 / unit, abs=0.011)
        expected = _one_euro_second_step(x1, x2, fps, beta) / unit
        assert np.asarray(smooth[1][key]) == pytest.approx(expected, abs=0.011)
        assert not np.allclose(smooth[1][key], raw[1][key], atol=0.05)  # it did smooth
