import math

import numpy as np
import pytest

from mmhandobj.evaluation.functional import (
    keypoint_2d_measures,
    mpjpe,
    pck_curves,
    point_distances,
    point_error_measures,
    root_relative_to_camera,
    trapezoid,
)
from mmhandobj.structures.geometry import opencv_to_opengl


def test_measures_match_official_evalutil(ref, rng):
    gt = rng.normal(scale=0.03, size=(30, 21, 3))
    pred = gt + rng.normal(scale=0.01, size=gt.shape)
    evalutil = ref.RefEvalUtil()
    for g, p in zip(gt, pred):
        evalutil.feed(g, p)
    mean, auc, curve, thresholds = evalutil.get_measures(0.0, 0.05, 100)
    measures = point_error_measures(point_distances(pred, gt), 0.0, 0.05, 100)
    assert measures.mean == pytest.approx(mean, abs=1e-15)
    assert measures.auc == pytest.approx(auc, abs=1e-12)
    np.testing.assert_allclose(measures.pck, curve, atol=1e-12)
    np.testing.assert_array_equal(measures.thresholds, thresholds)


def test_pck_uses_less_or_equal_and_auc_closed_forms():
    thresholds = np.linspace(0.0, 0.05, 100)
    exact = np.full((4, 1), thresholds[10])  # every distance equals the 11th threshold
    curve = pck_curves(exact, thresholds)[0]
    assert curve[9] == 0.0 and curve[10] == 1.0
    assert point_error_measures(np.zeros((3, 2))).auc == pytest.approx(1.0)
    # all distances at the last threshold: only the last step counts, half a trapezoid
    assert point_error_measures(np.full((3, 2), 0.05)).auc == pytest.approx(0.5 / 99)


def test_trapezoid_matches_numpy(rng):
    x = np.sort(rng.uniform(size=20))
    y = rng.uniform(size=(3, 20))
    np.testing.assert_allclose(trapezoid(y, x), np.trapezoid(y, x), rtol=1e-14)


def test_mpjpe_modes(rng):
    gt = rng.normal(size=(3, 21, 3))
    shift = np.array([0.3, 0.0, 0.4])
    assert mpjpe(gt + shift, gt) == pytest.approx(0.5)
    assert mpjpe(gt + shift, gt, 'root') == pytest.approx(0.0, abs=1e-12)
    assert mpjpe(2 * gt + shift, gt, 'procrustes') == pytest.approx(0.0, abs=1e-7)
    slow = np.mean([np.linalg.norm(p - g) for pp, gg in zip(gt + 1, gt)
                    for p, g in zip(pp, gg)])
    assert mpjpe(gt + 1, gt) == pytest.approx(slow)


def test_root_relative_to_camera_unflips_then_adds_root():
    joints = np.array([[[0.0, 0.0, 0.0], [0.1, 0.2, 0.3]]] * 2)
    root = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 2.0]])
    out = root_relative_to_camera(joints, root, [False, True])
    np.testing.assert_allclose(out[0, 1], [1.1, 1.2, 1.3])
    np.testing.assert_allclose(out[1, 1], [-0.1, 0.2, 2.3])
    np.testing.assert_allclose(opencv_to_opengl(out)[1, 1], [-0.1, -0.2, -2.3])
    with pytest.raises(ValueError, match='root: expected shape'):
        root_relative_to_camera(joints, root[:1], [False, True])


def _slow_keypoint_2d(pred, gt, thresholds, auc_max, steps):
    """EPE, PCK and AUC with plain loops over samples, joints and thresholds."""
    distances = []
    for pred_sample, gt_sample in zip(pred, gt):
        for (pu, pv), (gu, gv) in zip(pred_sample, gt_sample):
            distances.append(math.hypot(pu - gu, pv - gv))
    epe = sum(distances) / len(distances)
    pck = {t: sum(d <= t for d in distances) / len(distances) for t in thresholds}
    grid = [auc_max * k / (steps - 1) for k in range(steps)]
    curve = [sum(d <= t for d in distances) / len(distances) for t in grid]
    area = sum((grid[k + 1] - grid[k]) * (curve[k + 1] + curve[k]) / 2 for k in range(steps - 1))
    return epe, pck, area / auc_max


def test_keypoint_2d_measures_match_a_slow_loop(rng):
    gt = rng.uniform(0, 640, size=(12, 21, 2))
    pred = gt + rng.normal(scale=8.0, size=gt.shape)
    pred[0, 3] = gt[0, 3] + [3.0, 4.0]  # exactly 5 px: counts at the 5 px threshold
    measures = keypoint_2d_measures(pred, gt)
    epe, pck, auc = _slow_keypoint_2d(pred, gt, (5.0, 10.0, 20.0), 30.0, 100)
    assert measures.epe == pytest.approx(epe, rel=1e-12)
    assert measures.pck == pytest.approx(pck, rel=1e-12)
    assert measures.auc == pytest.approx(auc, rel=1e-12)
    assert 0.0 < measures.pck[5.0] < measures.pck[10.0] < measures.pck[20.0] < 1.0


def test_keypoint_2d_measures_closed_forms_and_shapes():
    gt = np.zeros((2, 21, 2))
    shifted = keypoint_2d_measures(gt + [6.0, 8.0], gt, pck_thresholds=(9.0, 10.0))
    assert shifted.epe == pytest.approx(10.0)
    assert shifted.pck == {9.0: 0.0, 10.0: 1.0}
    assert keypoint_2d_measures(gt, gt).auc == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r'pred: expected shape \(N, K, 2\)'):
        keypoint_2d_measures(np.zeros((2, 21, 3)), gt)
    with pytest.raises(ValueError, match='must match'):
        keypoint_2d_measures(np.zeros((3, 21, 2)), gt)
