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
