import cv2
import numpy as np
import pytest

from mmhandobj.datasets.transforms.geometry import (
    bbox_from_points,
    camera_roll,
    crop_matrix,
    fuse_boxes,
    rotate_axis_angle,
    rotated_crop,
)
from mmhandobj.structures.geometry import transform_points_2d


def _project(points, cam):
    uvw = points @ cam.T
    return uvw[:, :2] / uvw[:, 2:]


def test_bbox_from_points_closed_form():
    pts = np.array([[10.0, 20.0], [31.0, 60.0]])
    # centre (20.5, 40) truncated to (20, 40); half sizes 21*1.5/2, 40*1.5/2
    np.testing.assert_allclose(bbox_from_points(pts, 1.5),
                               [20 - 15.75, 40 - 30, 20 + 15.75, 40 + 30])
    with pytest.raises(ValueError, match='NaN'):
        bbox_from_points(np.array([[np.nan, 0.0], [1.0, 1.0]]), 1.0)


def test_fuse_boxes_clips_and_squares():
    centre, scale = fuse_boxes(np.array([-10, 5, 50, 45]), np.array([40, 30, 90, 70]),
                               (80, 60))
    # union clipped to [0, 80] x [5, 60]; centre int((0+80)/2, (5+60)/2); side max(80, 55)
    np.testing.assert_allclose(centre, [40, 32])
    assert scale == 80
    with pytest.raises(ValueError, match='degenerate crop'):
        fuse_boxes(np.array([100, 100, 120, 120]), np.array([100, 100, 130, 130]), (80, 60))


@pytest.mark.parametrize('seed', range(5))
def test_rotated_crop_is_consistent_with_camera_roll(seed):
    rng = np.random.default_rng(seed)
    cam = np.array([[rng.uniform(500, 700), 0, rng.uniform(300, 340)],
                    [0, rng.uniform(500, 700), rng.uniform(220, 260)], [0, 0, 1]])
    points = rng.uniform([-0.2, -0.2, 0.4], [0.2, 0.2, 0.8], (30, 3))
    angle = rng.uniform(-np.pi, np.pi)
    total, new_cam, roll = rotated_crop(cam, (320.0, 240.0), 300.0, angle, (256, 256))
    np.testing.assert_allclose(roll, camera_roll(angle))
    warped = transform_points_2d(_project(points, cam), total)
    reprojected = _project(points @ roll.T, new_cam)
    np.testing.assert_allclose(warped, reprojected, atol=1e-3)
    # the crop centre lands on the output centre
    centre = total @ np.array([320.0, 240.0, 1.0])
    if abs(cam[0, 0] - cam[1, 1]) < 1e-9:
        np.testing.assert_allclose(centre[:2], [128, 128], atol=1e-6)


def test_rotated_crop_matches_reference_when_fx_equals_fy():
    cam = np.array([[617.0, 0, 312.4], [0, 617.0, 241.4], [0, 0, 1]])
    centre, scale, angle = np.array([300.0, 200.0]), 250.0, 0.7
    total, new_cam, roll = rotated_crop(cam, centre, scale, angle, (256, 256))
    # reference: rotate about the image origin, re-centre on the rotated centre
    rc = roll @ np.array([*centre, 1.0])
    np.testing.assert_allclose(total, crop_matrix(rc[:2], scale, (256, 256)) @ roll, atol=1e-9)
    # reference K' = A(c_K) K with c_K the centre rotated about the principal point
    shift = np.array([[1, 0, cam[0, 2]], [0, 1, cam[1, 2]], [0, 0, 1]])
    c_k = shift @ roll @ np.linalg.inv(shift) @ np.array([*centre, 1.0])
    np.testing.assert_allclose(new_cam, crop_matrix(c_k[:2], scale, (256, 256)) @ cam,
                               atol=1e-9)


def test_rotate_axis_angle_left_multiplies():
    aa = np.array([0.3, -0.2, 0.9])
    roll = camera_roll(0.4)
    out = rotate_axis_angle(aa, roll)
    expected = roll @ cv2.Rodrigues(aa)[0]
    np.testing.assert_allclose(cv2.Rodrigues(out.astype(np.float64))[0], expected, atol=1e-6)
