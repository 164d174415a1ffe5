import numpy as np
import pytest

from mmhandobj.evaluation.functional import (
    fscore,
    fscore_from_distances,
    fscore_multi,
    nearest_neighbour_distances,
)


def test_fscore_matches_brute_force(ref, rng):
    gt = rng.normal(scale=0.03, size=(4, 100, 3))
    pred = gt + rng.normal(scale=0.005, size=gt.shape)
    pred_other = rng.normal(scale=0.03, size=(4, 60, 3))  # a different point count
    scores = fscore_multi(gt, [pred, pred_other], (0.005, 0.015), workers=2)
    for i in range(4):
        for j, th in enumerate((0.005, 0.015)):
            assert scores[0, i, j] == pytest.approx(ref.ref_fscore(gt[i], pred[i], th))
            assert scores[1, i, j] == pytest.approx(ref.ref_fscore(gt[i], pred_other[i], th))
    np.testing.assert_array_equal(fscore(gt, pred, (0.005, 0.015)), scores[0])


def test_fscore_hand_cases():
    gt = np.array([[[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]])
    assert fscore(gt, gt, (0.005, )).item() == 1.0
    shifted = gt + np.array([0.0, 0.0, 0.006])
    np.testing.assert_array_equal(fscore(gt, shifted, (0.005, 0.015)), [[0.0, 1.0]])
    # strict "<": a distance equal to the threshold does not count; P + R = 0 gives 0
    np.testing.assert_array_equal(
        fscore_from_distances([[0.005, 0.001]], [[0.005, 0.005, 0.005]], (0.005, )),
        [[2 * 0.5 * 0.0 / 0.5]])
    assert fscore_from_distances([[1.0]], [[1.0]], (0.005, )).item() == 0.0
    # precision 1/2, recall 1/4: F = 2 * 1/4 * 1/2 / (3/4) = 1/3
    assert fscore_from_distances([[0.0, 1.0]], [[0.0, 1.0, 1.0, 1.0]],
                                 (0.005, )).item() == pytest.approx(1 / 3)


def test_nearest_neighbour_distances(rng):
    src = rng.normal(size=(2, 30, 3))
    dst = rng.normal(size=(2, 40, 3))
    expected = np.sqrt(((src[:, :, None] - dst[:, None]) ** 2).sum(-1)).min(-1)
    np.testing.assert_allclose(nearest_neighbour_distances(src, dst), expected, atol=1e-15)
    with pytest.raises(ValueError, match='src has 2 samples but dst has 1'):
        nearest_neighbour_distances(src, dst[:1])
