"""Hand 2D joint scores of the HO3D and DexYCB metrics, in original-image pixels."""
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import DexYCBHandMetric, HO3DMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

K = np.array([[600.0, 0.0, 320.0], [0.0, 590.0, 240.0], [0.0, 0.0, 1.0]])
WIDTH = 640


def _crop_affine(rng):
    """A random rotation + scale + translation, (possibly mirrored) image -> crop pixels."""
    angle, scale = rng.uniform(-0.6, 0.6), rng.uniform(0.2, 0.6)
    linear = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.concatenate([linear, rng.uniform(-100, 100, size=(2, 1))], axis=1)


def _samples(rng, flips, with_2d=True):
    """Samples whose predicted 2D joints are off by a known image-pixel offset each.

    The prediction is built forwards (original image -> mirror -> crop affine), the
    opposite direction of what the metric does.
    """
    samples, offsets = [], []
    for i, flip in enumerate(flips):
        joints = rng.normal(scale=0.04, size=(21, 3)) + [0.02, -0.01, 0.6]
        gt_image = np.stack([K[0, 0] * joints[:, 0] / joints[:, 2] + K[0, 2],
                             K[1, 1] * joints[:, 1] / joints[:, 2] + K[1, 2]], axis=1)
        offset = rng.normal(scale=5.0, size=(21, 2))
        offsets.append(np.linalg.norm(offset, axis=1))
        pred_image = gt_image + offset
        if flip:
            pred_image[:, 0] = WIDTH - 1 - pred_image[:, 0]
        affine = _crop_affine(rng)
        pred_crop = pred_image @ affine[:, :2].T + affine[:, 2]
        sample = HandObjectDataSample(metainfo=dict(
            sample_idx=i, flip=flip, ori_shape=(480, WIDTH), ori_cam_intr=K.astype(np.float32),
            crop_affine=affine.astype(np.float64)))
        sample.gt_instances = InstanceData(
            root_joint=torch.tensor(joints[None, 0]).float(),
            joints3d=torch.tensor(joints[None]).float(),
            verts3d=torch.tensor(rng.normal(scale=0.04, size=(1, 778, 3)) + 0.6).float())
        pred = dict(hand_joints3d=rng.normal(scale=0.04, size=(1, 21, 3)).astype(np.float32),
                    hand_verts3d=rng.normal(scale=0.04, size=(1, 778, 3)).astype(np.float32))
        if with_2d:
            pred['hand_joints2d'] = pred_crop[None]
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
    # the GT joints project with float32 intrinsics and labels: sub-milli-pixel differences
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
