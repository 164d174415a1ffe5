"""Detector targets from the raw HO3D-layout files, flip and packing."""
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.transforms import (
    DetectionRandomFlip,
    GenerateDetectionTargets,
    LoadHandObjectImage,
    PackDetectionInputs,
)
from mmhandobj.structures import YCB_CLASS_IDS, bbox21_from_points
from mmhandobj.structures.detection_classes import (
    DET_CATEGORIES,
    LEFT_HAND_ID,
    RIGHT_HAND_ID,
    category_side_or_name,
    object_category_id,
)

GL = np.diag([1.0, -1.0, -1.0])


def _raw_boxes(root, frame_key):
    """Hand and object boxes straight from the raw meta file (independent of the loader)."""
    seq, fid = frame_key.split('/')
    with open(osp.join(root, 'train', seq, 'meta', f'{fid}.pkl'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    cam = np.asarray(meta['camMat'], np.float64)

    def project(points_gl):
        uvw = (points_gl @ GL) @ cam.T
        return uvw[:, :2] / uvw[:, 2:]

    joints = project(np.asarray(meta['handJoints3D'], np.float64))
    points = np.loadtxt(osp.join(root, 'models', meta['objName'], 'points.xyz'))
    rot = cv2.Rodrigues(np.asarray(meta['objRot'], np.float64).reshape(3))[0]
    corners = project(bbox21_from_points(points) @ rot.T + np.asarray(meta['objTrans']).ravel())
    boxes = [np.r_[p.min(0), p.max(0)] for p in (joints, corners)]
    return np.clip(boxes, 0, [640, 480, 640, 480]), meta['objName']


def test_targets_are_the_joint_and_projected_model_boxes(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    for idx in (0, 5):
        info = dataset.get_data_info(idx)
        out = GenerateDetectionTargets()(info)
        boxes, name = _raw_boxes(ho3d_root, info['frame_key'])
        np.testing.assert_allclose(out['gt_bboxes'], boxes, atol=1e-2)
        assert out['gt_labels'].tolist() == [RIGHT_HAND_ID, 2 + YCB_CLASS_IDS[name]]
        assert DET_CATEGORIES[out['gt_labels'][1]] == name


def test_flip_mirrors_boxes_and_swaps_the_hand_side(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    results = LoadHandObjectImage()(GenerateDetectionTargets()(dataset.get_data_info(2)))
    original = results['img'].copy()
    boxes = results['gt_bboxes'].copy()
    out = DetectionRandomFlip(prob=1.0)(results)
    assert out['flip'] and out['gt_labels'][0] == LEFT_HAND_ID
    np.testing.assert_array_equal(out['img'], original[:, ::-1])
    np.testing.assert_allclose(out['gt_bboxes'][:, [0, 2]], 640 - boxes[:, [2, 0]])
    np.testing.assert_allclose(out['gt_bboxes'][:, [1, 3]], boxes[:, [1, 3]])
    packed = PackDetectionInputs()(out)
    sample = packed['data_samples']
    assert tuple(packed['inputs'].shape) == (3, 480, 640)
    assert sample.gt_instances.labels.tolist() == out['gt_labels'].tolist()
    assert sample.metainfo['frame_key'] == out['frame_key'] and sample.metainfo['flip']


def test_evaluation_frames_give_the_released_hand_box(ho3d_root):
    # HO3D's evaluation metas hold handBoundingBox but no joints (has_hand is False there).
    dataset = HO3DDataset(data_root=ho3d_root, split='evaluation')
    info = dataset.get_data_info(0)
    assert not info['has_hand']
    seq, fid = info['frame_key'].split('/')
    with open(osp.join(ho3d_root, 'evaluation', seq, 'meta', f'{fid}.pkl'), 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    out = GenerateDetectionTargets()(info)
    assert out['gt_labels'].tolist() == [RIGHT_HAND_ID, 2 + YCB_CLASS_IDS[meta['objName']]]
    np.testing.assert_allclose(out['gt_bboxes'][0], np.asarray(meta['handBoundingBox']),
                               atol=1e-3)


def test_out_of_view_boxes_are_dropped_and_unknown_objects_named():
    info = dict(ori_shape=(480, 640), hand_side='right', has_hand=True, has_obj=True,
                joints2d=np.array([[700.0, 10.0], [800.0, 50.0]]), obj_name='006_mustard_bottle',
                obj_kps2d=np.array([[10.0, 20.0], [50.0, 90.0]]), img_path='x.png')
    out = GenerateDetectionTargets()(dict(info))
    assert out['gt_labels'].tolist() == [object_category_id('006_mustard_bottle')]
    with pytest.raises(KeyError, match="unknown object class 'teapot'"):
        GenerateDetectionTargets()(dict(info, obj_name='teapot'))
    assert category_side_or_name(LEFT_HAND_ID) == ('hand', 'left')
    with pytest.raises(KeyError, match='category id 99'):
        category_side_or_name(99)
