import itertools
import os
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData
from mmengine.visualization import Visualizer

from mmhandobj.engine import HandObjectVisualizationHook
from mmhandobj.models.mano import ManoLayer
from mmhandobj.registry import HOOKS
from mmhandobj.structures import HandObjectDataSample
from mmhandobj.visualization import HandObjectVisualizer

H, W = 120, 160
K = np.array([[200.0, 0.0, 80.0], [0.0, 200.0, 60.0], [0.0, 0.0, 1.0]])
ROOT = np.array([0.08, 0.0, 0.6])
_names = itertools.count()


@pytest.fixture(scope='module')
def mano():
    return ManoLayer(standin_seed=0, use_pca=False, center_idx=0, units='m')


def write_frames(folder, num):
    paths = []
    for i in range(num):
        path = os.path.join(folder, f'seq{i}', '0000.png')
        os.makedirs(os.path.dirname(path))
        cv2.imwrite(path, np.full((H, W, 3), 40 + 10 * i, np.uint8))
        paths.append(path)
    return paths


def make_sample(mano, img_path, index):
    verts, joints = (x[0].numpy() for x in mano(torch.zeros(1, 48)))
    gt = InstanceData()
    gt.hand_joints3d_cam = torch.from_numpy(joints + ROOT)[None].float()
    gt.root_joint = torch.from_numpy(ROOT)[None].float()
    pred = InstanceData()
    pred.hand_verts3d = verts[None]
    sample = HandObjectDataSample(metainfo=dict(
        img_path=img_path, sample_idx=index, ori_shape=(H, W), flip=False, ori_cam_intr=K,
        crop_affine=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])))
    sample.gt_instances = gt
    sample.pred_instances = pred
    return sample


def runner_like(tmp_path, visualizer, mano):
    return SimpleNamespace(visualizer=visualizer, work_dir=str(tmp_path / 'work'),
                           timestamp='20250101_000000', iter=0,
                           model=torch.nn.Sequential(torch.nn.Identity(), mano))


def test_registered():
    hook = HOOKS.build(dict(type='HandObjectVisualizationHook'))
    assert isinstance(hook, HandObjectVisualizationHook) and hook.enable is False


def test_test_iter_writes_every_sample(tmp_path, mano):
    paths = write_frames(str(tmp_path / 'frames'), 2)
    outputs = [make_sample(mano, path, 10 + i) for i, path in enumerate(paths)]
    vis = HandObjectVisualizer(name=f'hook_test_{next(_names)}')
    runner = runner_like(tmp_path, vis, mano)

    HandObjectVisualizationHook().after_test_iter(runner, 0, {}, outputs)
    assert not os.path.exists(runner.work_dir)

    hook = HandObjectVisualizationHook(enable=True, test_out_dir='vis')
    hook.after_test_iter(runner, 0, {}, outputs)
    hook.after_test_iter(runner, 1, {}, outputs[:1])
    out_dir = os.path.join(runner.work_dir, runner.timestamp, 'vis')
    assert sorted(os.listdir(out_dir)) == ['000010_0000.png', '000011_0000.png']
    for i, name in enumerate(sorted(os.listdir(out_dir))):
        img = cv2.imread(os.path.join(out_dir, name))
        assert img.shape == (H, 2 * W, 3)
        background = 40 + 10 * i
        # GT panel: the wrist dot at its projection; prediction panel: the mesh placed at the
        # GT root with the faces taken from the model's ManoLayer.
        u, v = K[:2, :2] @ (ROOT[:2] / ROOT[2]) + K[:2, 2]
        assert tuple(img[int(round(v)), int(round(u))]) == (255, 255, 255)
        assert (img[:, W:] != background).any() and (img[:5, :5] == background).all()
    assert vis.mano_faces.shape == (1538, 3)


def test_val_iter_interval_goes_to_backend(tmp_path, mano):
    paths = write_frames(str(tmp_path / 'frames'), 1)
    vis = HandObjectVisualizer(name=f'hook_test_{next(_names)}', save_dir=str(tmp_path / 'log'),
                               vis_backends=[dict(type='LocalVisBackend')])
    runner = runner_like(tmp_path, vis, mano)
    hook = HandObjectVisualizationHook(enable=True, interval=2)
    outputs = [make_sample(mano, paths[0], 0)]
    hook.after_val_iter(runner, 1, {}, outputs)
    image_dir = tmp_path / 'log' / 'vis_data' / 'vis_image'
    assert not image_dir.exists()
    hook.after_val_iter(runner, 2, {}, outputs)
    saved = os.listdir(image_dir)
    assert len(saved) == 1 and saved[0].startswith('val_0000.png')
    assert cv2.imread(str(image_dir / saved[0])).shape == (H, 2 * W, 3)


def test_needs_hand_object_visualizer(tmp_path, mano):
    paths = write_frames(str(tmp_path / 'frames'), 1)
    runner = runner_like(tmp_path, Visualizer(name=f'plain_{next(_names)}'), mano)
    with pytest.raises(TypeError, match='HandObjectVisualizer'):
        HandObjectVisualizationHook(enable=True).after_test_iter(
            runner, 0, {}, [make_sample(mano, paths[0], 0)])
    with pytest.raises(ValueError, match='interval'):
        HandObjectVisualizationHook(interval=0)
