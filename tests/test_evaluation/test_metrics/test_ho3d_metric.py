import json
import logging
import zipfile

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import HO3DMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS, MANO_TO_SIMPLE

OPENGL = np.array([1.0, -1.0, -1.0])


def _make_samples(ref, rng, num=3, with_gt=True):
    """Samples in shuffled order; returns them and the expected OpenGL/HO3D-order arrays."""
    pred_xyz, pred_verts, gt_xyz, gt_verts = ref.random_hands(rng, num)  # OpenCV, simple
    gt_xyz[..., 2] *= -1  # put the hands in front of an OpenCV camera (z > 0)
    gt_verts[..., 2] *= -1
    pred_xyz[..., 2] *= -1
    pred_verts[..., 2] *= -1
    flips = [i % 2 == 1 for i in range(num)]
    samples = []
    for i in rng.permutation(num):
        root = gt_xyz[i, 0]
        joints_rel, verts_rel = pred_xyz[i] - root, pred_verts[i] - root
        if flips[i]:  # the network predicts in the mirrored frame
            joints_rel = joints_rel * np.array([-1.0, 1.0, 1.0])
            verts_rel = verts_rel * np.array([-1.0, 1.0, 1.0])
        sample = HandObjectDataSample(metainfo=dict(sample_idx=int(i), flip=flips[i]))
        gt = dict(root_joint=torch.from_numpy(root[None]).float())
        if with_gt:
            gt.update(hand_joints3d_cam=torch.from_numpy(gt_xyz[i][None]).float(),
                      hand_verts3d_cam=torch.from_numpy(gt_verts[i][None]).float())
        sample.gt_instances = InstanceData(**gt)
        sample.pred_instances = InstanceData(
            hand_joints3d=joints_rel[None].astype(np.float32),
            hand_verts3d=verts_rel[None].astype(np.float32))
        samples.append(sample.to_dict())
    return samples


def _expected_arrays(samples):
    """Independent re-derivation of what pred.json must hold, in sample_idx order."""
    xyz, verts, gt_xyz, gt_verts = [], [], [], []
    for sample in sorted(samples, key=lambda s: s['sample_idx']):
        root = sample['gt_instances']['root_joint'][0].double().numpy()
        sign = np.array([-1.0, 1.0, 1.0]) if sample['flip'] else np.ones(3)
        joints = sample['pred_instances']['hand_joints3d'][0].astype(np.float64) * sign + root
        mano = np.zeros_like(joints)
        for simple_index, mano_index in enumerate(MANO_TO_SIMPLE):
            mano[mano_index] = joints[simple_index]
        xyz.append(mano * OPENGL)
        verts.append((sample['pred_instances']['hand_verts3d'][0] * sign + root) * OPENGL)
        if 'hand_joints3d_cam' in sample['gt_instances']:
            gt = sample['gt_instances']['hand_joints3d_cam'][0].double().numpy()
            gt_xyz.append(np.stack([gt[MANO_TO_SIMPLE.index(k)] for k in range(21)]) * OPENGL)
            gt_verts.append(sample['gt_instances']['hand_verts3d_cam'][0].double().numpy() * OPENGL)
    return np.array(xyz), np.array(verts), np.array(gt_xyz), np.array(gt_verts)


def test_submission_and_local_scores(ref, rng, tmp_path):
    samples = _make_samples(ref, rng)
    metric = HO3DMetric(out_dir=str(tmp_path), version=None)
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    xyz, verts, gt_xyz, gt_verts = _expected_arrays(samples)
    with open(tmp_path / 'pred.json') as file:
        dumped = json.load(file)
    np.testing.assert_allclose(np.array(dumped[0]), xyz, atol=1e-12)
    np.testing.assert_allclose(np.array(dumped[1]), verts, atol=1e-12)
    assert (np.array(dumped[0])[..., 2] < 0).all()  # OpenGL: the hand has z < 0
    with zipfile.ZipFile(tmp_path / 'pred.zip') as archive:
        assert archive.namelist() == ['pred.json']
        assert json.loads(archive.read('pred.json')) == dumped
    expected = ref.ref_ho3d_scores(xyz, verts, gt_xyz, gt_verts)
    for key, value in expected.items():
        assert scores[f'ho3d/{key}'] == pytest.approx(value, abs=1e-9), key
    lines = (tmp_path / 'scores.txt').read_text().splitlines()
    assert lines[2] == f"xyz_procrustes_al_mean3d: {expected['xyz_procrustes_al_mean3d']:f}"


def test_gt_dir_matches_local_gt(ref, rng, tmp_path):
    samples = _make_samples(ref, rng, with_gt=False)
    samples_gt = _make_samples(ref, np.random.default_rng(0))
    _, _, gt_xyz, gt_verts = _expected_arrays(samples_gt)
    (tmp_path / 'evaluation_xyz.json').write_text(json.dumps(gt_xyz.tolist()))
    (tmp_path / 'evaluation_verts.json').write_text(json.dumps(gt_verts.tolist()))
    from_files = HO3DMetric(gt_dir=str(tmp_path), version=None)
    from_files.process({}, samples_gt)
    local = HO3DMetric(version=None)
    local.process({}, samples_gt)
    assert from_files.evaluate(3) == pytest.approx(local.evaluate(3), abs=1e-12)
    format_only = HO3DMetric(out_dir=str(tmp_path / 'out'), version=None)
    format_only.process({}, samples)
    assert format_only.evaluate(3) == {}
    wrong_count = HO3DMetric(gt_dir=str(tmp_path), version=None)
    wrong_count.process({}, samples_gt[:2])
    with pytest.raises(ValueError, match='2 predictions but .* holds GT for 3 frames'):
        wrong_count.evaluate(2)


def test_count_check_and_fingertips(ref, rng, tmp_path):
    samples = _make_samples(ref, rng)
    strict = HO3DMetric(version='v2', count_check='raise')
    strict.process({}, samples)
    with pytest.raises(ValueError, match='received 3 samples but the evaluation split has 11524'):
        strict.evaluate(3)
    tips = HO3DMetric(out_dir=str(tmp_path), expected_count=3, fingertips='ho3d')
    tips.process({}, samples)
    tips.evaluate(3)
    dumped = np.array(json.loads((tmp_path / 'pred.json').read_text())[0])
    dumped_verts = np.array(json.loads((tmp_path / 'pred.json').read_text())[1])
    # HO3D order: joints 16-20 are the tips thumb, index, middle, ring, pinky
    np.testing.assert_allclose(dumped[:, 16:21], dumped_verts[:, FINGERTIP_VERTS['ho3d']['right']],
                               atol=1e-12)
    with pytest.raises(ValueError, match='fingertips must be'):
        HO3DMetric(fingertips='mano')


class _Records(logging.Handler):
    """Collects the messages MMLogger emits (it does not propagate to pytest's caplog)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_nan_prediction_is_reported_and_excluded(ref, rng, tmp_path):
    samples = _make_samples(ref, rng, num=4)
    bad = next(s for s in samples if s['sample_idx'] == 2)
    bad['pred_instances']['hand_joints3d'][0, 5, 1] = np.nan
    metric = HO3DMetric(out_dir=str(tmp_path), version=None)
    metric.process({}, samples)
    records = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(records)
    try:
        scores = metric.evaluate(4)
    finally:
        logger.removeHandler(records)
    assert any('1 of 4 samples' in m and 'sample ids [2]' in m for m in records.messages)
    kept = [s for s in samples if s['sample_idx'] != 2]
    clean = HO3DMetric(version=None)
    clean.process({}, kept)
    assert scores == pytest.approx(clean.evaluate(3), abs=1e-12)
    dumped = json.loads((tmp_path / 'pred.json').read_text())
    assert len(dumped[0]) == 4 and np.all(np.array(dumped[0][2]) == 0)
    raising = HO3DMetric(version=None, nan_policy='raise')
    raising.process({}, samples)
    with pytest.raises(ValueError, match=r'1 of 4 samples have non-finite .* sample ids \[2\]'):
        raising.evaluate(4)


def test_missing_fields_are_named(ref, rng):
    samples = _make_samples(ref, rng, num=1)
    del samples[0]['pred_instances']['hand_verts3d']
    with pytest.raises(KeyError, match='pred_instances.hand_verts3d is missing'):
        HO3DMetric().process({}, samples)
    samples = _make_samples(ref, rng, num=1)
    samples[0]['pred_instances']['hand_joints3d'] = np.zeros((1, 20, 3))
    with pytest.raises(ValueError, match=r'hand_joints3d has shape \(1, 20, 3\)'):
        HO3DMetric().process({}, samples)
    with pytest.raises(FileNotFoundError, match='gt_dir does not exist'):
        HO3DMetric(gt_dir='/nonexistent/ho3d_gt')
