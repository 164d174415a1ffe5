import numpy as np

from mmhandobj.structures import bbox21_from_points
from mmhandobj.visualization import BOX_EDGES, box_corners, project_to_image

K = np.array([[610.0, 0.0, 315.0], [0.0, 605.0, 242.0], [0.0, 0.0, 1.0]])


def test_box_edges_join_corners_differing_in_one_coordinate():
    corners = bbox21_from_points(np.array([[-1.0, -2.0, -3.0], [1.0, 2.0, 3.0]]))[:8]
    expected = {(a, b) for a in range(8) for b in range(a + 1, 8)
                if np.sum(corners[a] == corners[b]) == 2}
    assert len(BOX_EDGES) == 12 and set(BOX_EDGES) == expected


def test_project_to_image_flags_undrawable_points():
    points = np.array([[0.1, 0.2, 0.5], [0.0, 0.0, -0.5], [np.nan, 0.0, 1.0], [0.0, 0.0, 0.0]])
    pixels, valid = project_to_image(points, K)
    assert valid.tolist() == [True, False, False, False]
    # project_points keeps HFL-Net's +1e-5 in the depth (REP parity): ~0.01 px at 0.5 m.
    np.testing.assert_allclose(pixels[0], [315 + 610 * 0.2, 242 + 605 * 0.4], atol=0.02)


def test_box_corners_order():
    np.testing.assert_array_equal(box_corners([1, 2, 5, 7]), [[1, 2], [5, 2], [5, 7], [1, 7]])
