import os.path as osp
import pickle
import shutil

import cv2
import numpy as np
import pytest

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.annotation_file import decode_mask
from mmhandobj.structures import MANO_TO_SIMPLE, bbox21_from_points

#: The 24-frame world's train sequences are SM2, ABF10, GPMF10; the last is held out.
HO3D_VAL_SEQUENCE = 'GPMF10'
GL = np.diag([1.0, -1.0, -1.0])


def _lines(root, split):
    with open(osp.join(root, f'{split}.txt')) as f:
        return [line.strip() for line in f if line.strip()]


def _meta(root, split, key):
    seq, fid = key.split('/')
    with open(osp.join(root, split, seq, 'meta', f'{fid}.pkl'), 'rb') as f:
        return pickle.load(f, encoding='latin1')


def _project(points, cam):
    uvw = points @ cam.T
    return uvw[:, :2] / uvw[:, 2:]


def test_splits_partition_train_and_keep_evaluation_order(ho3d_root):
    train_keys = _lines(ho3d_root, 'train')
    kwargs = dict(data_root=ho3d_root, val_sequences=[HO3D_VAL_SEQUENCE])
    train = HO3DDataset(split='train', **kwargs)
    val = HO3DDataset(split='val', test_mode=True, **kwargs)
    keys = [train.get_data_info(i)['frame_key'] for i in range(len(train))]
    val_keys = [val.get_data_info(i)['frame_key'] for i in range(len(val))]
    assert sorted(keys + val_keys) == sorted(train_keys)
    assert val_keys and all(k.startswith(HO3D_VAL_SEQUENCE + '/') for k in val_keys)
    evaluation = HO3DDataset(data_root=ho3d_root, split='evaluation', test_mode=True)
    assert [evaluation.get_data_info(i)['frame_key']
            for i in range(len(evaluation))] == _lines(ho3d_root, 'evaluation')


def test_train_sample_matches_raw_meta(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    info = dataset.get_data_info(3)
    meta = _meta(ho3d_root, 'train', info['frame_key'])
    cam = np.asarray(meta['camMat'], np.float64)
    joints_cv = (np.asarray(meta['handJoints3D'], np.float64) @ GL)[MANO_TO_SIMPLE]
    np.testing.assert_allclose(info['hand_joints3d_cam'], joints_cv, atol=1e-6)
    np.testing.assert_allclose(info['joints2d'], _project(joints_cv, cam), atol=1e-3)
    rot_gl = cv2.Rodrigues(np.asarray(meta['handPose'][:3], np.float64))[0]
    np.testing.assert_allclose(cv2.Rodrigues(info['mano_pose'][:3].astype(np.float64))[0],
                               GL @ rot_gl, atol=1e-5)
    np.testing.assert_allclose(info['mano_pose'][3:], meta['handPose'][3:], atol=1e-6)
    assert np.all(info['mano_pose_offset'] == 0)
    # object keypoints: the AABB points of points.xyz posed in OpenGL, then flipped
    points = np.loadtxt(osp.join(ho3d_root, 'models', meta['objName'], 'points.xyz'))
    obj_rot = cv2.Rodrigues(np.asarray(meta['objRot'], np.float64).reshape(3))[0]
    kps_gl = bbox21_from_points(points) @ obj_rot.T + np.asarray(meta['objTrans']).reshape(3)
    np.testing.assert_allclose(info['obj_kps2d'], _project(kps_gl @ GL, cam), atol=1e-2)
    assert info['obj_name'] == meta['objName'] and info['hand_side'] == 'right'
    # object mask: seg blue > 200, resized nearest to the image
    seq, fid = info['frame_key'].split('/')
    seg = cv2.imread(osp.join(ho3d_root, 'train', seq, 'seg', f'{fid}.jpg'))
    seg = cv2.resize(seg, (640, 480), interpolation=cv2.INTER_NEAREST)
    np.testing.assert_array_equal(decode_mask(info['obj_mask_rle'], 480, 640),
                                  seg[:, :, 0] > 200)


def test_evaluation_sample_has_root_and_box_only(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='evaluation', test_mode=True)
    info = dataset.get_data_info(0)
    meta = _meta(ho3d_root, 'evaluation', info['frame_key'])
    assert not info['has_hand'] and 'joints2d' not in info
    np.testing.assert_allclose(info['root_joint'],
                               GL @ np.asarray(meta['handJoints3D'], np.float64), atol=1e-6)
    np.testing.assert_allclose(info['hand_box_hint'], np.ravel(meta['handBoundingBox']),
                               atol=1e-4)


def test_dataset_pickles_with_its_columns(ho3d_root):
    dataset = HO3DDataset(data_root=ho3d_root, split='train')
    clone = pickle.loads(pickle.dumps(dataset))
    assert len(clone) == len(dataset)
    a, b = dataset.get_data_info(2), clone.get_data_info(2)
    np.testing.assert_array_equal(a['joints2d'], b['joints2d'])
    assert a['img_path'] == b['img_path']


def test_bad_arguments_are_named(ho3d_root, tmp_path):
    with pytest.raises(ValueError, match='unknown HO3D split'):
        HO3DDataset(data_root=ho3d_root, split='test')
    with pytest.raises(ValueError, match='val_sequences'):
        HO3DDataset(data_root=ho3d_root, split='val')
    with pytest.raises(ValueError, match=r"\['XX9'\] not in the train split"):
        HO3DDataset(data_root=ho3d_root, split='val', val_sequences=['XX9'])
    with pytest.raises(ValueError, match='expected ho3d/evaluation'):
        HO3DDataset(data_root=ho3d_root, split='evaluation',
                    ann_file='annotations/ho3d_v2_train.npz')
    models = tmp_path / 'models'
    shutil.copytree(osp.join(ho3d_root, 'models'), models)
    shutil.rmtree(models / '006_mustard_bottle')
    with pytest.raises(KeyError, match="unknown object name '006_mustard_bottle'"):
        HO3DDataset(data_root=ho3d_root, split='train', obj_model_root=str(models))


def test_v3_layout_converts_and_loads(tmp_path):
    """HO3D v3: JPEG frames, float64 metas with the v3-only keys."""
    from mmhandobj.datasets.converters import convert_ho3d
    from mmhandobj.datasets.transforms import read_image
    from mmhandobj.synthetic import make_synthetic_world

    root = str(tmp_path / 'ho3d_v3')
    make_synthetic_world('ho3d', root, 8, seed=1, version='v3')
    for split in ('train', 'evaluation'):
        convert_ho3d(root, osp.join(root, 'annotations', f'ho3d_v3_{split}.npz'), split, 'v3')
    train = HO3DDataset(data_root=root, version='v3', split='train')
    evaluation = HO3DDataset(data_root=root, version='v3', split='evaluation', test_mode=True)
    assert len(train) == len(_lines(root, 'train'))
    assert len(evaluation) == len(_lines(root, 'evaluation'))
    info = train.get_data_info(0)
    assert info['img_path'].endswith('.jpg')
    meta = _meta(root, 'train', info['frame_key'])
    assert np.asarray(meta['handPose']).dtype == np.float64 and 'handVertContact' in meta
    joints_cv = (np.asarray(meta['handJoints3D'], np.float64) @ GL)[MANO_TO_SIMPLE]
    np.testing.assert_allclose(info['hand_joints3d_cam'], joints_cv, atol=1e-6)
    assert read_image(info['img_path']).shape == (480, 640, 3)
    wrist = np.asarray(_meta(root, 'evaluation', _lines(root, 'evaluation')[0])['handJoints3D'])
    np.testing.assert_allclose(evaluation.get_data_info(0)['root_joint'], wrist @ GL, atol=1e-6)
