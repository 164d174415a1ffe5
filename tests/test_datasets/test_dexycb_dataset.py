import os.path as osp

import numpy as np
import pytest

from mmhandobj.datasets import DexYCBDataset
from mmhandobj.datasets.annotation_file import decode_mask, load_annotation_file
from mmhandobj.datasets.converters.dexycb import DEXYCB_SUBJECTS
from mmhandobj.datasets.dexycb import handoccnet_box_valid
from mmhandobj.models.mano import load_mano_model


def _labels(root, frame_key):
    subject, seq, serial, frame = frame_key.split('/')
    with np.load(osp.join(root, subject, seq, serial, f'labels_{frame}.npz')) as npz:
        return {k: npz[k] for k in npz.files}


def test_train_filters_invalid_hands_and_test_keeps_them(dexycb_root):
    ann = osp.join(dexycb_root, 'annotations', 'dexycb_s0_test.npz')
    columns, _ = load_annotation_file(ann)
    test = DexYCBDataset(data_root=dexycb_root, split='test', test_mode=True)
    assert len(test) == len(columns['img_path'])
    train = DexYCBDataset(data_root=dexycb_root, split='train')
    train_cols, _ = load_annotation_file(osp.join(dexycb_root, 'annotations',
                                                  'dexycb_s0_train.npz'))
    assert len(train) == int((train_cols['has_hand'] & train_cols['has_obj'] & handoccnet_box_valid(
        train_cols['joints2d'], 640, 480)).sum())
    assert len(train) < len(train_cols['img_path'])  # the world has invalid-hand frames
    for i in range(len(train)):
        info = train.get_data_info(i)
        assert info['has_hand'] and np.isfinite(info['joints2d']).all()


def test_s0_split_rule_on_sequence_positions(dexycb_root):
    for split, rule in (('train', lambda i: i % 5 != 4), ('test', lambda i: i % 5 == 4)):
        columns, _ = load_annotation_file(
            osp.join(dexycb_root, 'annotations', f'dexycb_s0_{split}.npz'))
        for seq in set(np.char.decode(columns['sequence']).tolist()):
            subject, name = seq.split('/')
            position = sorted(__import__('os').listdir(osp.join(dexycb_root, subject))).index(name)
            assert rule(position)
            if split == 'test':
                assert DEXYCB_SUBJECTS.index(subject) >= 2


def test_sample_matches_labels_and_pca_conversion(dexycb_root):
    dataset = DexYCBDataset(data_root=dexycb_root, split='train')
    mano = {side: load_mano_model(osp.join(dexycb_root, 'mano', f'MANO_{side.upper()}.pkl'))
            for side in ('right', 'left')}
    sides = set()
    for i in range(len(dataset)):
        info = dataset.get_data_info(i)
        labels = _labels(dexycb_root, info['frame_key'])
        side = info['hand_side']
        sides.add(side)
        np.testing.assert_allclose(info['hand_joints3d_cam'], labels['joint_3d'][0], atol=1e-6)
        np.testing.assert_allclose(info['joints2d'], labels['joint_2d'][0], atol=1e-4)
        pose_m = labels['pose_m'][0].astype(np.float64)
        expected = pose_m[3:48] @ mano[side]['hands_components']
        np.testing.assert_allclose(info['mano_pose'][:3], pose_m[:3], atol=1e-6)
        np.testing.assert_allclose(info['mano_pose'][3:], expected, atol=1e-4)
        np.testing.assert_allclose(info['mano_pose_offset'], mano['right']['hands_mean'],
                                   atol=1e-6)
        cls = info['obj_cls']
        assert decode_mask(info['obj_mask_rle'], 480, 640).sum() == (labels['seg'] == cls).sum()
    assert sides == {'left', 'right'}


def test_bad_split_names(dexycb_root):
    with pytest.raises(ValueError, match='unknown DexYCB split'):
        DexYCBDataset(data_root=dexycb_root, split='evaluation')
    with pytest.raises(ValueError, match='unknown DexYCB setup'):
        DexYCBDataset(data_root=dexycb_root, setup='s9')
    with pytest.raises(FileNotFoundError, match='dexycb_s1_train.npz'):
        DexYCBDataset(data_root=dexycb_root, setup='s1')
