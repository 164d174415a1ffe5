"""LoadDetectedBoxes: HFL-Net's test crop built from a detection file instead of the GT."""
import logging.handlers
import shutil

import numpy as np
import pytest
from mmcv.transforms import Compose
from mmengine.logging import MMLogger

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.detection_file import save_detection_file
from mmhandobj.datasets.transforms import (
    CanonicalizeHandSide,
    GenerateHandObjectTargets,
    GetHandObjectCrop,
    HandObjectAffine,
    LoadDetectedBoxes,
    LoadHandObjectImage,
    PackHandObjectInputs,
    pick_hand_and_object,
)
from mmhandobj.structures import YCB_CLASSES, bbox21_from_points
from mmhandobj.structures.detection_classes import (
    DET_CATEGORY_IDS,
    LEFT_HAND_ID,
    RIGHT_HAND_ID,
    object_category_id,
)


def _pipeline(det=None):
    steps = [LoadHandObjectImage()] + ([det] if det is not None else []) + [
        CanonicalizeHandSide(), GetHandObjectCrop(expand=1.5), HandObjectAffine(96),
        GenerateHandObjectTargets(1.1, 1.0, 16), PackHandObjectInputs()]
    return Compose(steps)


def _tight(points):
    return np.r_[points.min(0), points.max(0)]


def _write(path, infos, boxes_per_frame):
    images = [dict(id=i, file_name=info['img_path'], frame_key=info['frame_key'], width=640,
                   height=480) for i, info in enumerate(infos)]
    dets = [dict(image_id=i, bbox=box, score=score, category_id=cid)
            for i, boxes in enumerate(boxes_per_frame) for box, score, cid in boxes]
    save_detection_file(str(path), images, dets)


def test_detected_boxes_equal_to_gt_give_the_gt_crop(ho3d_root, tmp_path):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    infos = [dataset.get_data_info(i) for i in (0, 1)]
    far = [0.0, 0.0, 20.0, 20.0]
    boxes = [[(_tight(info['joints2d']), 0.9, RIGHT_HAND_ID),
              (_tight(info['obj_kps2d']), 0.8, object_category_id(info['obj_name'])),
              (far, 0.2, DET_CATEGORY_IDS['025_mug'])] for info in infos]  # below score_thr
    _write(tmp_path / 'dets.json', infos, boxes)
    det = LoadDetectedBoxes(str(tmp_path / 'dets.json'), score_thr=0.3)
    for info in infos:
        gt_out = _pipeline()(dict(info))['data_samples']
        det_out = _pipeline(det)(dict(info))['data_samples']
        np.testing.assert_allclose(det_out.crop_affine, gt_out.crop_affine, atol=1e-4)
        for field in ('hand_bboxes', 'obj_bboxes'):
            np.testing.assert_allclose(det_out.gt_instances[field], gt_out.gt_instances[field],
                                       atol=1e-3)
        assert 'joints2d' not in det_out.gt_instances  # 2D GT no longer reaches the model
        assert 'hand_joints3d_cam' in det_out.gt_instances and 'obj_pose' in det_out.gt_instances
    assert det.counts == dict(frames=2, no_hand=0, no_obj=0, wrong_obj_class=0, no_obj_model=0)


def test_shifted_boxes_move_the_rois_and_wrong_classes_change_the_model(ho3d_root, tmp_path):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    info = dataset.get_data_info(2)
    hand = np.array([200.0, 150.0, 300.0, 260.0])
    obj = np.array([260.0, 120.0, 420.0, 330.0])
    # a detected class other than the frame's, with its own model in the model folder
    models = tmp_path / 'models'
    shutil.copytree(f'{ho3d_root}/models', models)
    other = next(name for name in YCB_CLASSES.values() if not (models / name).exists())
    _write(tmp_path / 'dets.json', [info],
           [[(hand, 0.9, LEFT_HAND_ID), (obj, 0.7, DET_CATEGORY_IDS[other])]])
    mug = np.loadtxt(models / info['obj_name'] / 'points.xyz') * [2.0, 1.0, 0.5]
    (models / other).mkdir()
    np.savetxt(models / other / 'points.xyz', mug)
    det = LoadDetectedBoxes(str(tmp_path / 'dets.json'), hand_side='detection',
                            obj_model_root=str(models))
    sample = _pipeline(det)(dict(info))['data_samples']
    assert sample.hand_side == 'left' and sample.flip  # side from the detected class
    # RoIs = the mirrored detected corners mapped into the crop, boxed about the truncated
    # centre (hand x1.1, object x1.0)
    affine = sample.crop_affine.astype(np.float64)
    for field, box, factor in (('hand_bboxes', hand, 1.1), ('obj_bboxes', obj, 1.0)):
        corners = np.array([[639 - box[2], box[1]], [639 - box[0], box[3]]])
        crop = corners @ affine[:, :2].T + affine[:, 2]
        centre = np.trunc((crop.min(0) + crop.max(0)) / 2)
        half = (crop.max(0) - crop.min(0)) * factor / 2
        np.testing.assert_allclose(sample.gt_instances[field][0],
                                   np.r_[centre - half, centre + half], atol=1e-3)
    np.testing.assert_allclose(sample.gt_instances.obj_kps3d[0], bbox21_from_points(mug),
                               atol=1e-6)
    assert sample.obj_name == info['obj_name'] and det.counts['wrong_obj_class'] == 1


def test_missing_detections_fall_back_counted_and_unknown_frames_named(ho3d_root, tmp_path,
                                                                      caplog):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    info = dataset.get_data_info(3)
    _write(tmp_path / 'dets.json', [info], [[(_tight(info['joints2d']), 0.1, RIGHT_HAND_ID)]])
    det = LoadDetectedBoxes(str(tmp_path / 'dets.json'), score_thr=0.3)
    gt_out = _pipeline()(dict(info))['data_samples']
    det_out = _pipeline(det)(dict(info))['data_samples']
    np.testing.assert_allclose(det_out.crop_affine, gt_out.crop_affine, atol=1e-4)
    assert det.counts == dict(frames=1, no_hand=1, no_obj=1, wrong_obj_class=0, no_obj_model=0)
    image = LoadDetectedBoxes(str(tmp_path / 'dets.json'), fallback='image')
    whole = _pipeline(image)(dict(info))['data_samples']
    np.testing.assert_allclose(whole.gt_instances.hand_bboxes[0], [0, 0, 96, 96], atol=1e-3)
    other = dict(dataset.get_data_info(4))
    with pytest.raises(KeyError, match='was it written on this test split'):
        det(LoadHandObjectImage()(other))


def test_a_detected_class_without_model_falls_back_named(ho3d_root, tmp_path):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    info = dataset.get_data_info(1)
    models = tmp_path / 'models'
    shutil.copytree(f'{ho3d_root}/models', models)
    other = next(name for name in YCB_CLASSES.values() if not (models / name).exists())
    obj = np.array([260.0, 120.0, 420.0, 330.0])
    _write(tmp_path / 'dets.json', [info], [[(_tight(info['joints2d']), 0.9, RIGHT_HAND_ID),
                                             (obj, 0.8, DET_CATEGORY_IDS[other])]])
    det = LoadDetectedBoxes(str(tmp_path / 'dets.json'), obj_model_root=str(models))
    records = logging.handlers.BufferingHandler(capacity=10)  # MMLogger skips caplog
    MMLogger.get_current_instance().addHandler(records)
    try:
        det_out = _pipeline(det)(dict(info))['data_samples']
    finally:
        MMLogger.get_current_instance().removeHandler(records)
    gt_out = _pipeline()(dict(info))['data_samples']
    # the ground-truth object box and keypoints are used, as for a missing detection
    np.testing.assert_allclose(det_out.gt_instances.obj_bboxes, gt_out.gt_instances.obj_bboxes,
                               atol=1e-3)
    np.testing.assert_allclose(det_out.gt_instances.obj_kps3d, gt_out.gt_instances.obj_kps3d)
    assert det.counts == dict(frames=1, no_hand=0, no_obj=0, wrong_obj_class=0, no_obj_model=1)
    assert any(str(models / other / 'points.xyz') in r.getMessage() for r in records.buffer)


def test_pick_hand_and_object_nearest_to_the_hand():
    dets = [dict(bbox=np.array([0, 0, 10, 10.0]), score=0.9, category_id=RIGHT_HAND_ID),
            dict(bbox=np.array([100, 100, 120, 120.0]), score=0.8, category_id=7),
            dict(bbox=np.array([5, 5, 25, 25.0]), score=0.5, category_id=8),
            dict(bbox=np.array([0, 0, 10, 10.0]), score=0.2, category_id=9)]
    hand, obj = pick_hand_and_object(dets, 0.3, 'score')
    assert hand['category_id'] == RIGHT_HAND_ID and obj['category_id'] == 7
    assert pick_hand_and_object(dets, 0.3, 'nearest_hand')[1]['category_id'] == 8
    assert pick_hand_and_object(dets[1:], 0.3, 'nearest_hand') == (None, dets[1])
