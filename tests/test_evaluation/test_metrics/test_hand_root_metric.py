"""HandRootMetric against hand-computed root errors and absolute MPJPEs."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import HandRootMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

MIRROR = np.array([-1.0, 1.0, 1.0])


def _sample(idx, gt_rel, gt_root, pred_rel, pred_root, flip, with_joints=True):
    """One packed sample; ``pred_rel`` is un-mirrored, stored mirrored when ``flip``."""
    sample = HandObjectDataSample(metainfo=dict(sample_idx=idx, flip=flip))
    gt = dict(root_joint=torch.tensor(gt_root[None]))
    if with_joints:
        gt['hand_joints3d_cam'] = torch.tensor((gt_rel + gt_root)[None])
    sample.gt_instances = InstanceData(**gt)
    network = pred_rel * MIRROR if flip else pred_rel
    sample.pred_instances = InstanceData(hand_joints3d=network[None].astype(np.float32),
                                         hand_root=np.asarray(pred_root, np.float32)[None])
    return sample.to_dict()


@pytest.fixture
def hand(rng):
    """A wrist-relative hand with joints spread over about 10 cm, metres."""
    rel = rng.uniform(-0.05, 0.05, size=(21, 3))
    rel[0] = 0
    return rel


def _frames(hand, with_joints=True):
    root = np.array([0.02, -0.03, 0.5])
    return [
        # exact joints, root 3-4-0 mm off: root error 5 mm, every joint 5 mm off
        _sample(0, hand, root, hand, root + [0.003, 0.004, 0.0], False, with_joints),
        # mirrored; every joint 2 mm off along y, root 12 mm off along z
        _sample(1, hand, root, hand + [0.0, 0.002, 0.0], root + [0.0, 0.0, 0.012], True,
                with_joints),
        # no wrist solved (NaN): counted, left out
        _sample(2, hand, root, hand, [np.nan] * 3, False, with_joints),
    ]


def _evaluate(samples):
    metric = HandRootMetric()
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_scores_match_hand_computation(hand):
    samples = _frames(hand)
    for idx, gt in ((3, dict(root_joint=torch.full((1, 3), float('nan')))),  # DexYCB, no hand
                    (4, dict())):  # no wrist field at all
        no_hand = HandObjectDataSample(metainfo=dict(sample_idx=idx))
        no_hand.gt_instances = InstanceData(**gt)
        no_hand.pred_instances = InstanceData(hand_joints3d=np.zeros((1, 21, 3)),
                                              hand_root=np.zeros((1, 3)))
        samples.append(no_hand.to_dict())
    scores = _evaluate(samples)
    expected = {
        'hand/root_error_mm': (5.0 + 12.0) / 2,
        'hand/root_error_median_mm': (5.0 + 12.0) / 2,
        'hand/root_unsolved_count': 1,
        'hand/root_unsolved_ratio': 1 / 3,
        'hand/frames_scored': 2,
        'hand/MPJPE_abs_mm': (5.0 + np.sqrt(2.0 ** 2 + 12.0 ** 2)) / 2,
        'hand/MPJPE_abs_gtroot_mm': (0.0 + 2.0) / 2,
        'hand/frames_abs_scored': 2,
    }
    assert scores.keys() == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, abs=1e-4), key  # float32 predictions


def test_wrist_only_split_gets_root_keys_only(hand):
    """HO3D's evaluation split holds the wrist but no joints: no absolute MPJPE."""
    scores = _evaluate(_frames(hand, with_joints=False))
    assert set(scores) == {'hand/root_error_mm', 'hand/root_error_median_mm',
                           'hand/root_unsolved_count', 'hand/root_unsolved_ratio',
                           'hand/frames_scored'}
    assert scores['hand/root_error_mm'] == pytest.approx(8.5, abs=1e-4)


def test_bad_input(hand):
    with pytest.raises(ValueError, match='nan_policy'):
        HandRootMetric(nan_policy='ignore')
    samples = _frames(hand)
    for s in samples:
        s['pred_instances']['hand_root'][:] = np.nan
    with pytest.raises(ValueError, match='no frame with a solved wrist'):
        _evaluate(samples)
    samples = _frames(hand)
    samples[0]['pred_instances']['hand_joints3d'][0, 3, 0] = np.nan
    metric = HandRootMetric(nan_policy='raise')
    metric.process({}, samples)
    with pytest.raises(ValueError, match=r'sample ids \[0\]'):
        metric.evaluate(len(samples))
