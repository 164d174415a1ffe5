import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mmhandobj.evaluation.functional import (
    add_error,
    adds_error,
    center_error,
    reprojection_error,
)
from mmhandobj.structures.geometry import REP_DEPTH_EPS, pinhole_project, transform_points_3d


def _poses(rng, num):
    rot = Rotation.random(num, random_state=2).as_matrix()
    trans = rng.uniform([-0.1, -0.1, 0.5], [0.1, 0.1, 0.8], size=(num, 3))
    return rot, trans


def test_errors_match_slow_loops(rng):
    points = rng.normal(scale=0.05, size=(40, 3))
    rot, trans = _poses(rng, 3)
    pred_rot = rot @ Rotation.from_rotvec([0.0, 0.0, 0.2]).as_matrix()
    pred_trans = trans + rng.normal(scale=0.01, size=trans.shape)
    intr = np.array([[600.0, 0, 320], [0, 610, 240], [0, 0, 1]])
    add = add_error(points, pred_rot, pred_trans, rot, trans)
    adds = adds_error(points, pred_rot, pred_trans, rot, trans)
    rep = reprojection_error(points, pred_rot, pred_trans, rot, trans, intr)
    for n in range(3):
        gt_pts = [rot[n] @ p + trans[n] for p in points]
        pr_pts = [pred_rot[n] @ p + pred_trans[n] for p in points]
        assert add[n] == pytest.approx(np.mean([np.linalg.norm(a - b)
                                                for a, b in zip(gt_pts, pr_pts)]))
        assert adds[n] == pytest.approx(np.mean([min(np.linalg.norm(p - g) for g in gt_pts)
                                                 for p in pr_pts]))

        def proj(x):
            h = intr @ x
            return h[:2] / (h[2] + 1e-5)
        assert rep[n] == pytest.approx(np.mean([np.linalg.norm(proj(a) - proj(b))
                                                for a, b in zip(gt_pts, pr_pts)]))


def test_hand_cases():
    points = np.array([[0.1, 0.0, 0.0], [-0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, -0.1, 0.0]])
    eye, zero = np.eye(3)[None], np.array([[0.0, 0.0, 1.0]])
    assert add_error(points, eye, zero, eye, zero).item() == 0.0
    moved = zero + np.array([0.03, 0.0, 0.04])
    assert add_error(points, eye, moved, eye, zero).item() == pytest.approx(0.05)
    assert center_error(np.zeros(3), eye, moved, eye, zero).item() == pytest.approx(0.05)
    # a symmetry of the model (180 deg about z): ADD-S is 0, ADD is not
    half_turn = Rotation.from_rotvec([0, 0, np.pi]).as_matrix()[None]
    assert adds_error(points, half_turn, zero, eye, zero).item() == pytest.approx(0, abs=1e-12)
    assert add_error(points, half_turn, zero, eye, zero).item() == pytest.approx(0.2)
    # a point on the optical axis projects to the principal point
    uv = pinhole_project(np.array([[[0.0, 0.0, 2.0]]]), np.diag([500.0, 500.0, 1.0])[None],
                         REP_DEPTH_EPS)
    np.testing.assert_allclose(uv, [[[0.0, 0.0]]])
    np.testing.assert_allclose(transform_points_3d(points, eye, zero)[0], points + zero)


def test_reprojection_mirror_flag():
    points = np.array([[0.02, 0.01, 0.0]])
    eye, zero, moved = np.eye(3)[None], np.array([[0.0, 0.0, 1.0]]), np.array([[0.01, 0, 1.0]])
    intr = np.array([[500.0, 0, 100], [0, 500, 100], [0, 0, 1]])
    plain = reprojection_error(points, eye, moved, eye, zero, intr)
    mirrored = reprojection_error(points, eye, moved, eye, zero, intr, mirror=[True])
    assert plain.item() == pytest.approx(500 * 0.01 / (1 + 1e-5))
    assert mirrored.item() == pytest.approx(plain.item())
