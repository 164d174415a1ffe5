import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import DexYCBHandMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample


def _samples(rng, num=4, noise=0.008):
    gt = rng.normal(scale=0.04, size=(num, 21, 3)) + np.array([0.0, 0.0, 0.6])
    samples, preds = [], []
    for i in range(num):
        flip = i % 2 == 1
        pred_rel = gt[i] - gt[i, 0] + rng.normal(scale=noise, size=(21, 3))
        preds.append(pred_rel + gt[i, 0])
        network = pred_rel * np.array([-1.0, 1.0, 1.0]) if flip else pred_rel
        sample = HandObjectDataSample(metainfo=dict(sample_idx=10 + i, flip=flip))
        sample.gt_instances = InstanceData(
            hand_joints3d_cam=torch.from_numpy(gt[i][None]).float(),
            root_joint=torch.from_numpy(gt[i, 0][None]).float())
        sample.pred_instances = InstanceData(hand_joints3d=network[None])
        samples.append(sample.to_dict())
    return samples


def _gt(samples):
    return [s['gt_instances']['hand_joints3d_cam'][0].double().numpy() for s in samples]


def _pred(samples):
    out = []
    for s in samples:
        joints = np.array(s['pred_instances']['hand_joints3d'][0], dtype=np.float64)
        if s['flip']:
            joints[:, 0] *= -1
        out.append(joints + s['gt_instances']['root_joint'][0].double().numpy())
    return out


def test_hflnet_protocol_matches_slow_loop(ref, rng):
    samples = _samples(rng)
    metric = DexYCBHandMetric()
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    mpjpe, pa = [], []
    for pred, gt in zip(_pred(samples), _gt(samples)):
        mpjpe.append(np.mean([np.linalg.norm(p - g) for p, g in zip(pred * 1000, gt * 1000)]))
        aligned = ref.ref_umeyama(pred, gt) * 1000
        pa.append(np.mean([np.linalg.norm(p - g) for p, g in zip(aligned, gt * 1000)]))
    assert scores['dexycb/MPJPE_mm'] == pytest.approx(np.mean(mpjpe), rel=1e-9)
    assert scores['dexycb/PA-MPJPE_mm'] == pytest.approx(np.mean(pa), rel=1e-9)
    assert scores['dexycb/PA-MPJPE_mm'] < scores['dexycb/MPJPE_mm']


def test_perfect_prediction_with_flip_gives_zero(rng):
    samples = _samples(rng, noise=0.0)
    metric = DexYCBHandMetric()
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    assert scores['dexycb/MPJPE_mm'] == pytest.approx(0.0, abs=1e-3)
    assert scores['dexycb/PA-MPJPE_mm'] == pytest.approx(0.0, abs=1e-3)


def test_toolkit_result_file_and_numbers(ref, rng, tmp_path):
    samples = _samples(rng)
    result_file = tmp_path / 'res' / 'hpe.txt'
    metric = DexYCBHandMetric(toolkit_result_file=str(result_file))
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    lines = result_file.read_text().splitlines()
    assert len(lines) == 4
    parsed = {}
    for line in lines:
        elems = line.split(',')
        assert len(elems) == 64
        parsed[int(elems[0])] = np.array(elems[1:], dtype=np.float64).reshape(21, 3)
    assert sorted(parsed) == [10, 11, 12, 13]
    # the toolkit's own procedure, on the parsed file
    evaluators = {name: ref.RefEvalUtil() for name in ('absolute', 'root_relative', 'procrustes')}
    for (index, pred_mm), gt in zip(sorted(parsed.items()), _gt(samples)):
        gt_mm = (gt.astype(np.float32) * np.float32(1000)).astype(np.float64)
        np.testing.assert_allclose(pred_mm, _pred(samples)[index - 10] * 1000, atol=1e-9)
        evaluators['absolute'].feed(gt_mm, pred_mm)
        evaluators['root_relative'].feed(gt_mm - gt_mm[0], pred_mm - pred_mm[0])
        evaluators['procrustes'].feed(gt_mm, ref.ref_align_w_scale(gt_mm, pred_mm))
    for name, evaluator in evaluators.items():
        mean, auc, _, _ = evaluator.get_measures(0.0, 50.0, 100)
        assert scores[f'dexycb/toolkit_{name}_MPJPE_mm'] == pytest.approx(mean, rel=1e-12)
        assert scores[f'dexycb/toolkit_{name}_AUC'] == pytest.approx(auc, rel=1e-12)


def test_nan_and_missing_fields(rng):
    samples = _samples(rng)
    samples[1]['pred_instances']['hand_joints3d'][0, 0, 0] = np.nan
    metric = DexYCBHandMetric()
    metric.process({}, samples)
    excluded = metric.evaluate(4)
    clean = DexYCBHandMetric()
    clean.process({}, [samples[0]] + samples[2:])
    assert excluded == pytest.approx(clean.evaluate(3))
    raising = DexYCBHandMetric(nan_policy='raise')
    raising.process({}, samples)
    with pytest.raises(ValueError, match=r'sample ids \[11\]'):
        raising.evaluate(4)
    del samples[0]['gt_instances']['root_joint']
    with pytest.raises(KeyError, match='sample_idx=10 .*gt_instances.root_joint is missing'):
        DexYCBHandMetric().process({}, samples)


def test_through_mmengine_evaluator(rng):
    """The Evaluator converts HandObjectDataSample objects with to_dict() itself."""
    from mmengine.evaluator import Evaluator
    gt = rng.normal(scale=0.04, size=(21, 3)) + np.array([0.0, 0.0, 0.6])
    sample = HandObjectDataSample(metainfo=dict(sample_idx=0, flip=False))
    sample.gt_instances = InstanceData(hand_joints3d_cam=torch.from_numpy(gt[None]),
                                       root_joint=torch.from_numpy(gt[:1]))
    sample.pred_instances = InstanceData(hand_joints3d=(gt - gt[0] + 0.001)[None])
    evaluator = Evaluator([dict(type='mmhandobj.DexYCBHandMetric')])
    evaluator.process([sample])
    scores = evaluator.evaluate(1)
    assert scores['dexycb/MPJPE_mm'] == pytest.approx(np.sqrt(3), rel=1e-9)
    with pytest.raises(ValueError, match='nan_policy must be one of'):
        DexYCBHandMetric(nan_policy='ignore')
