import numpy as np
import pytest

from mmhandobj.evaluation.functional import (
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
