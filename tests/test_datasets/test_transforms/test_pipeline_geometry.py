"""After the one affine warp, 3D ground truth re-projects onto the warped 2D annotations."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mmhandobj.datasets import DexYCBDataset, HO3DDataset
from mmhandobj.models.mano import ManoLayer, axis_angle_to_matrix
from mmhandobj.registry import TRANSFORMS


def _pipeline(rot_mode, rot_factor):
    return Compose([TRANSFORMS.build(cfg) for cfg in [
        dict(type='LoadHandObjectImage'),
        dict(type='LoadObjectMask'),
        dict(type='CanonicalizeHandSide'),
        dict(type='GetHandObjectCrop', shift_factor=0.1, scale_factor=0.2, rot_mode=rot_mode,
             rot_factor=rot_factor, rot_prob=1.0),
        dict(type='HandObjectAffine', input_size=256),
        dict(type='GenerateHandObjectTargets'),
    ]])


def _project(points, cam):
    uvw = points @ np.asarray(cam, np.float64).T
    return uvw[:, :2] / uvw[:, 2:]


def _crop_camera_points(points, results):
    """Original-camera points -> (mirrored) -> rolled crop camera."""
    points = np.asarray(points, np.float64).copy()
    if results['flip']:
        points[:, 0] *= -1
    return points @ np.asarray(results['crop_roll'], np.float64).T


def _mano_joints(mano_root, results):
    """Right MANO on the transformed pose and shape: 16 joints (no tips), wrist-relative."""
    layer = ManoLayer(mano_root=mano_root, side='right', use_pca=False, flat_hand_mean=True,
                      units='m')
    pose = torch.as_tensor(results['mano_pose'], dtype=torch.float32)[None]
    betas = torch.as_tensor(results['mano_shape'], dtype=torch.float32)[None]
    _, joints = layer(pose, betas)
    joints = joints[0].double().numpy()
    return joints - joints[:1]


def _check_sample(results, mano_root):
    cam = results['cam_intr']
    joints = _crop_camera_points(results['hand_joints3d_cam'], results)
    np.testing.assert_allclose(_project(joints, cam), results['joints2d'], atol=1e-2)
    kps_cam = results['obj_kps3d'] @ results['obj_pose'][:, :3].T + results['obj_pose'][:, 3]
    np.testing.assert_allclose(_project(_crop_camera_points(kps_cam, results), cam),
                               results['obj_kps2d'], atol=1e-2)
    # MANO on the transformed global orient: joints 0..20 except tips (conventions differ)
    non_tips = [i for i in range(21) if i not in (4, 8, 12, 16, 20)]
    mano = _mano_joints(mano_root, results) + joints[:1]
    np.testing.assert_allclose(_project(mano, cam)[non_tips], results['joints2d'][non_tips],
                               atol=0.5)
    assert results['img'].shape == (256, 256, 3)
    assert results['obj_mask'].shape == (32, 32)


@pytest.mark.parametrize('seed', [0, 1])
def test_ho3d_warp_is_geometrically_consistent(ho3d_root, seed):
    np.random.seed(seed)
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    pipeline = _pipeline('uniform', np.pi)
    for idx in range(0, len(dataset), 5):
        results = pipeline(dataset.get_data_info(idx))
        assert abs(results['crop_rotation']) > 0
        _check_sample(results, osp.join(ho3d_root, 'mano'))


@pytest.mark.parametrize('seed', [0, 1])
def test_dexycb_warp_is_consistent_for_left_and_right(dexycb_root, seed):
    np.random.seed(seed)
    dataset = DexYCBDataset(data_root=dexycb_root, split='train')
    pipeline = _pipeline('gaussian', np.pi / 6)
    flips = set()
    for idx in range(len(dataset)):
        results = pipeline(dataset.get_data_info(idx))
        flips.add(results['flip'])
        _check_sample(results, osp.join(dexycb_root, 'mano'))
    assert flips == {True, False}


def test_left_hand_is_mirrored(dexycb_root):
    dataset = DexYCBDataset(data_root=dexycb_root, split='train')
    canon = Compose([TRANSFORMS.build(dict(type='LoadHandObjectImage')),
                     TRANSFORMS.build(dict(type='CanonicalizeHandSide'))])
    idx = next(i for i in range(len(dataset))
               if dataset.get_data_info(i)['hand_side'] == 'left')
    info = dataset.get_data_info(idx)
    raw_img = canon.transforms[0](dataset.get_data_info(idx))['img']
    out = canon(info)
    np.testing.assert_array_equal(out['img'], raw_img[:, ::-1])
    raw = dataset.get_data_info(idx)
    np.testing.assert_allclose(out['joints2d'][:, 0], 639 - raw['joints2d'][:, 0], atol=1e-4)
    expected = raw['mano_pose'].reshape(16, 3) * np.array([1, -1, -1])
    expected = expected.reshape(48)
    expected[3:] += raw['mano_pose_offset']
    np.testing.assert_allclose(out['mano_pose'], expected, atol=1e-6)
    # the mirrored rotation is C R C with C = diag(-1, 1, 1)
    mirror = torch.diag(torch.tensor([-1.0, 1.0, 1.0]))
    rot = axis_angle_to_matrix(torch.as_tensor(raw['mano_pose'][None, :3]))[0]
    np.testing.assert_allclose(
        axis_angle_to_matrix(torch.as_tensor(out['mano_pose'][None, :3]))[0].numpy(),
        (mirror @ rot @ mirror).numpy(), atol=1e-5)
