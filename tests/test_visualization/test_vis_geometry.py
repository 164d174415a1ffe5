import numpy as np
import pytest

from mmhandobj.structures import bbox21_from_points
from mmhandobj.visualization import BOX_EDGES, box_corners, fit_root_translation, project_to_image

K = np.array([[610.0, 0.0, 315.0], [0.0, 605.0, 242.0], [0.0, 0.0, 1.0]])


def test_box_edges_join_corners_differing_in_one_coordinate():
    corners = bbox21_from_points(np.array([[-1.0, -2.0, -3.0], [1.0, 2.0, 3.0]]))[:8]
    expected = {(a, b) for a in range(8) for b in range(a + 1, 8)
                if np.sum(corners[a] == corners[b]) == 2}
    assert len(BOX_EDGES) == 12 and set(BOX_EDGES) == expected


def test_fit_root_translation_recovers_the_root():
    rng = np.random.default_rng(0)
    joints_rel = rng.uniform(-0.08, 0.08, (21, 3))
    joints_rel[0] = 0.0
    root = np.array([0.05, -0.03, 0.55])
    cam = joints_rel + root
    pixels = np.stack([K[0, 0] * cam[:, 0] / cam[:, 2] + K[0, 2],
                       K[1, 1] * cam[:, 1] / cam[:, 2] + K[1, 2]], axis=1)
    np.testing.assert_allclose(fit_root_translation(joints_rel, pixels, K), root, atol=1e-9)
    # A fit that puts the hand behind the camera is refused.
    behind = joints_rel + [0.0, 0.0, -0.6]
    mirrored = np.stack([K[0, 0] * behind[:, 0] / behind[:, 2] + K[0, 2],
                         K[1, 1] * behind[:, 1] / behind[:, 2] + K[1, 2]], axis=1)
    assert fit_root_translation(joints_rel, mirrored, K) is None
    with pytest.raises(ValueError, match='joints2d'):
        fit_root_translation(joints_rel, pixels[:5], K)


def test_project_to_image_flags_undrawable_points():
    points = np.array([[0.1, 0.2, 0.5], [0.0, 0.0, -0.5], [np.nan, 0.0, 1.0], [0.0, 0.0, 0.0]])
    pixels, valid = project_to_image(points, K)
    assert valid.tolist() == [True, False, False, False]
    # project_points keeps HFL-Net's +1e-5 in the depth (REP parity): ~0.01 px at 0.5 m.
    np.testing.assert_allclose(pixels[0], [315 + 610 * 0.2, 242 + 605 * 0.4], atol=0.02)


def test_box_corners_order():
    np.testing.assert_array_equal(box_corners([1, 2, 5, 7]), [[1, 2], [5, 2], [5, 7], [1, 7]])
