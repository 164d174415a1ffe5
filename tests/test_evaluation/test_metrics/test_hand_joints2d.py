"""Hand 2D joint scores of the HO3D and DexYCB metrics, in original-image pixels."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import DexYCBHandMetric, HO3DMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

K = np.array([[600.0, 0.0, 320.0], [0.0, 590.0, 240.0], [0.0, 0.0, 1.0]])
WIDTH = 640


def _samples(rng, flips, with_2d=True):
    """Samples whose predicted 2D joints are off by a known original-image offset each.

    ``hand_joints2d_img`` is already un-mirrored (the model maps it back), so the metric must
    not mirror it again on ``flip`` samples; the GT is projected here by hand.
    """
    samples, offsets = [], []
    for i, flip in enumerate(flips):
        joints = rng.normal(scale=0.04, size=(21, 3)) + [0.02, -0.01, 0.6]
        gt_image = np.stack([K[0, 0] * joints[:, 0] / joints[:, 2] + K[0, 2],
                             K[1, 1] * joints[:, 1] / joints[:, 2] + K[1, 2]], axis=1)
        offset = rng.normal(scale=5.0, size=(21, 2))
        offsets.append(np.linalg.norm(offset, axis=1))
        sample = HandObjectDataSample(metainfo=dict(
            sample_idx=i, flip=flip, ori_shape=(480, WIDTH), ori_cam_intr=K.astype(np.float32)))
        sample.gt_instances = InstanceData(
            root_joint=torch.tensor(joints[None, 0]).float(),
            hand_joints3d_cam=torch.tensor(joints[None]).float(),
            hand_verts3d_cam=torch.tensor(rng.normal(scale=0.04, size=(1, 778, 3)) + 0.6).float())
        pred = dict(hand_joints3d=rng.normal(scale=0.04, size=(1, 21, 3)).astype(np.float32),
                    hand_verts3d=rng.normal(scale=0.04, size=(1, 778, 3)).astype(np.float32))
        if with_2d:
            pred['hand_joints2d_img'] = (gt_image + offset)[None].astype(np.float32)
        sample.pred_instances = InstanceData(**pred)
        samples.append(sample.to_dict())
    return samples, np.concatenate(offsets)


@pytest.mark.parametrize('metric_type', [HO3DMetric, DexYCBHandMetric])
def test_joints2d_scores_in_original_image_pixels(metric_type):
    rng = np.random.default_rng(0)
    samples, offsets = _samples(rng, [False, True, True, False])
    metric = metric_type(**(dict(version=None) if metric_type is HO3DMetric else {}))
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    prefix = metric.default_prefix
    # float32 predictions, intrinsics and labels: sub-milli-pixel differences
    assert scores[f'{prefix}/joints2d_EPE_px'] == pytest.approx(offsets.mean(), abs=2e-3)
    for threshold in (5, 10, 20):
        assert scores[f'{prefix}/joints2d_PCK_{threshold}px'] == pytest.approx(
            np.mean(offsets <= threshold), abs=1.5 / len(offsets))
    assert 0.0 < scores[f'{prefix}/joints2d_AUC_30px'] < 1.0


def test_no_joints2d_scores_without_a_2d_prediction():
    samples, _ = _samples(np.random.default_rng(1), [False, True], with_2d=False)
    metric = HO3DMetric(version=None)
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    assert 'ho3d/xyz_mean3d' in scores
    assert not any('joints2d' in key for key in scores)
