"""The configs' pipelines produce HandObjectDataSample per its contract."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmhandobj.registry import DATASETS
from mmhandobj.structures import HandObjectDataSample

CONFIGS = osp.join(osp.dirname(__file__), '..', '..', '..', 'configs', '_base_', 'datasets')
SHAPES = dict(hand_bboxes=(1, 4), obj_bboxes=(1, 4), hand_joints2d_crop=(1, 21, 2),
              mano_pose=(1, 48), mano_shape=(1, 10), obj_kps2d_crop=(1, 21, 2),
              obj_mask=(1, 32, 32),
              hand_joints3d_cam=(1, 21, 3), root_joint=(1, 3), obj_pose=(1, 3, 4),
              obj_kps3d=(1, 21, 3),
              obj_diameter=(1, ))


def _build(config, loader, root):
    init_default_scope('mmhandobj')
    cfg = Config.fromfile(osp.join(CONFIGS, config))[loader].dataset
    cfg.data_root = root
    return DATASETS.build(cfg)


def _check(out, expect_hand, expect_mask):
    inputs, sample = out['inputs'], out['data_samples']
    assert isinstance(sample, HandObjectDataSample)
    assert inputs.dtype == torch.uint8 and inputs.shape == (3, 256, 256)
    gt = sample.gt_instances
    hand_fields = {'hand_joints2d_crop', 'mano_pose', 'mano_shape', 'hand_joints3d_cam'}
    expected = set(SHAPES) - (set() if expect_hand else hand_fields)
    expected -= set() if expect_mask else {'obj_mask'}
    assert set(gt.keys()) == expected
    for key in expected:
        assert tuple(gt[key].shape) == SHAPES[key] and gt[key].dtype == torch.float32, key
    meta = sample.metainfo
    assert meta['img_shape'] == (256, 256) and meta['ori_shape'] == (480, 640)
    assert meta['cam_intr'].shape == (3, 3) and meta['crop_affine'].shape == (2, 3)
    # crop_affine maps image pixels to crop pixels: the crop K is crop_affine @ K(image)
    image_cam = meta['ori_cam_intr'].astype(np.float64)
    if meta['flip']:
        width = meta['ori_shape'][1]
        image_cam = np.array([[-1, 0, width - 1], [0, 1, 0], [0, 0, 1]]) @ image_cam @ np.diag(
            [-1.0, 1.0, 1.0])
    affine = np.vstack([meta['crop_affine'], [0, 0, 1]])
    return sample, affine, image_cam


@pytest.mark.parametrize('loader', ['train_dataloader', 'val_dataloader'])
def test_ho3d_config_pipelines(ho3d_root, loader):
    dataset = _build('ho3d.py', loader, ho3d_root)
    sample, affine, image_cam = _check(dataset[0], loader == 'train_dataloader',
                                       loader == 'train_dataloader')
    if loader == 'val_dataloader':  # evaluation split: no rotation, K' = A K exactly
        np.testing.assert_allclose(sample.metainfo['cam_intr'], affine @ image_cam, rtol=1e-5)
        assert sample.metainfo['dataset_name'] == 'ho3d'


@pytest.mark.parametrize('loader', ['train_dataloader', 'test_dataloader'])
def test_dexycb_config_pipelines(dexycb_root, loader):
    dataset = _build('dexycb.py', loader, dexycb_root)
    sides = set()
    for idx in range(len(dataset)):
        info = dataset.get_data_info(idx)
        if info['hand_side'] in sides or not info['has_hand']:
            continue
        sides.add(info['hand_side'])
        sample, affine, image_cam = _check(dataset[idx], True, loader == 'train_dataloader')
        assert sample.metainfo['flip'] == (info['hand_side'] == 'left')
        assert sample.metainfo['hand_side'] == info['hand_side']
        # 3D ground truth stays in the original, un-mirrored camera
        np.testing.assert_allclose(sample.gt_instances.hand_joints3d_cam[0].numpy(),
                                   info['hand_joints3d_cam'])
        if loader == 'test_dataloader':
            np.testing.assert_allclose(sample.metainfo['cam_intr'], affine @ image_cam,
                                       rtol=1e-5)
    assert sides == {'left', 'right'}


def test_dexycb_test_frame_without_hand_is_packed_without_hand_fields(dexycb_root):
    dataset = _build('dexycb.py', 'test_dataloader', dexycb_root)
    idx = next(i for i in range(len(dataset)) if not dataset.get_data_info(i)['has_hand'])
    sample, _, _ = _check(dataset[idx], False, False)
    # no hand points: the hand RoI falls back to the object box
    np.testing.assert_array_equal(sample.gt_instances.hand_bboxes, sample.gt_instances.obj_bboxes)
