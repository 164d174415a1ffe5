import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from mmhandobj.structures.geometry import (
    OPENCV_TO_OPENGL,
    REP_DEPTH_EPS,
    box_normalised_to_pixels,
    crop_to_image,
    image_to_crop,
    mirror_axis_angle,
    mirror_box,
    mirror_intrinsics,
    mirror_points_2d,
    mirror_points_3d,
    opencv_to_opengl,
    pinhole_project,
    pixels_to_box_normalised,
    transform_points_2d,
    transform_points_3d,
)

K = np.array([[600.0, 0, 320], [0, 610, 240], [0, 0, 1]])
AFFINE = np.array([[0.5, 0.1, 10.0], [-0.1, 0.5, 20.0]])


def test_pinhole_project_hand_computed():
    points = np.array([[0.1, -0.2, 0.5], [0.0, 0.0, 2.0]])
    # u = 600 * 0.1 / 0.5 + 320 = 440, v = 610 * -0.2 / 0.5 + 240 = -4
    np.testing.assert_allclose(pinhole_project(points, K), [[440.0, -4.0], [320.0, 240.0]])
    # REP's depth offset: u = (fx x + cx z) / (z + eps)
    uv = pinhole_project(points[:1], K, REP_DEPTH_EPS)
    np.testing.assert_allclose(uv, [[(60 + 160) / (0.5 + 1e-5), (-122 + 120) / (0.5 + 1e-5)]])
    # a batch of intrinsics projects each row with its own K
    batch = np.stack([points, points])
    k2 = np.array([[300.0, 0, 100], [0, 300, 100], [0, 0, 1]])
    out = pinhole_project(batch, np.stack([K, k2]))
    np.testing.assert_allclose(out[0], pinhole_project(points, K))
    np.testing.assert_allclose(out[1], [[160.0, -20.0], [100.0, 100.0]])
    with pytest.raises(ValueError, match='cam_intr'):
        pinhole_project(points, np.eye(4))
    with pytest.raises(ValueError, match='batched'):
        pinhole_project(points, np.stack([K, K, K]))


def test_transform_points_2d_and_3d():
    pts = np.array([[1.0, 2.0], [-3.0, 0.5]])
    expected = [[0.5 + 0.2 + 10, -0.1 + 1.0 + 20], [-1.5 + 0.05 + 10, 0.3 + 0.25 + 20]]
    np.testing.assert_allclose(transform_points_2d(pts, AFFINE), expected)
    np.testing.assert_allclose(transform_points_2d(pts, np.vstack([AFFINE, [0, 0, 1]])),
                               expected)
    quarter = Rotation.from_rotvec([0, 0, np.pi / 2]).as_matrix()  # x -> y, y -> -x
    trans = np.array([0.0, 0.0, 1.0])
    model = np.array([[1.0, 0, 0], [0, 1.0, 0]])
    np.testing.assert_allclose(transform_points_3d(model, quarter, trans),
                               [[0, 1, 1], [-1, 0, 1]], atol=1e-12)
    batched = transform_points_3d(model, np.stack([quarter, np.eye(3)]),
                                  np.stack([trans, -trans]))
    np.testing.assert_allclose(batched[0], [[0, 1, 1], [-1, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(batched[1], model - trans)


def test_opencv_opengl_flip():
    np.testing.assert_array_equal(OPENCV_TO_OPENGL, np.diag([1.0, -1.0, -1.0]))
    pts = np.array([[0.1, 0.2, 0.5]])
    np.testing.assert_array_equal(opencv_to_opengl(pts), [[0.1, -0.2, -0.5]])
    np.testing.assert_array_equal(opencv_to_opengl(opencv_to_opengl(pts)), pts)
    np.testing.assert_array_equal(opencv_to_opengl(torch.tensor(pts)), pts @ OPENCV_TO_OPENGL)


def test_mirrors_are_involutions_with_closed_forms():
    pts = np.array([[0.0, 3.0], [639.0, 4.0], [100.25, 5.0]], np.float32)
    mirrored = mirror_points_2d(pts, 640)
    assert mirrored.dtype == np.float32
    np.testing.assert_array_equal(mirrored, [[639, 3], [0, 4], [538.75, 5]])
    np.testing.assert_array_equal(mirror_points_2d(mirrored, 640), pts)
    assert mirror_points_2d(np.array([[1, 2]]), 10).dtype == np.float64
    np.testing.assert_array_equal(mirror_box(np.array([10.0, 20, 50, 60]), 640),
                                  [589, 20, 629, 60])
    pts3 = np.array([[0.1, 0.2, 0.5]])
    np.testing.assert_array_equal(mirror_points_3d(pts3), [[-0.1, 0.2, 0.5]])
    np.testing.assert_array_equal(pts3, [[0.1, 0.2, 0.5]])  # input untouched


def test_mirror_axis_angle_is_s_r_s():
    rng = np.random.default_rng(0)
    pose = rng.normal(scale=0.8, size=48)
    mirrored = mirror_axis_angle(pose)
    s = np.diag([-1.0, 1.0, 1.0])
    for aa, aa_m in zip(pose.reshape(16, 3), mirrored.reshape(16, 3)):
        rot = Rotation.from_rotvec(aa).as_matrix()
        np.testing.assert_allclose(Rotation.from_rotvec(aa_m).as_matrix(), s @ rot @ s,
                                   atol=1e-12)
    np.testing.assert_array_equal(mirror_axis_angle(mirrored), pose)


def test_mirror_intrinsics_projects_mirrored_points():
    rng = np.random.default_rng(1)
    width = 640
    mirrored_k = mirror_intrinsics(K, width)
    np.testing.assert_allclose(mirrored_k, [[600, 0, 639 - 320], [0, 610, 240], [0, 0, 1]])
    points = rng.uniform([-0.2, -0.2, 0.4], [0.2, 0.2, 0.8], (10, 3))
    np.testing.assert_allclose(pinhole_project(mirror_points_3d(points), mirrored_k),
                               mirror_points_2d(pinhole_project(points, K), width))


@pytest.mark.parametrize('flip', [False, True])
def test_crop_image_round_trip(flip):
    img_pts = np.array([[100.0, 50.0], [300.0, 400.0]])
    source = mirror_points_2d(img_pts, 640) if flip else img_pts
    crop_pts = source @ AFFINE[:, :2].T + AFFINE[:, 2]
    np.testing.assert_allclose(image_to_crop(img_pts, AFFINE, flip, 640), crop_pts)
    back = crop_to_image(crop_pts, AFFINE, flip, 640)
    np.testing.assert_allclose(back, img_pts)
    assert back.dtype == np.float64
    if flip:  # undoing the affine alone gives the mirrored image: u' = 639 - u
        np.testing.assert_allclose(crop_to_image(crop_pts, AFFINE, False, 640)[:, 0],
                                   639 - img_pts[:, 0])


def test_box_normalised_round_trip():
    box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
    px = torch.tensor([[[10.0, 20.0], [30.0, 60.0], [50.0, 100.0]]])
    norm = pixels_to_box_normalised(px, box)
    torch.testing.assert_close(norm, torch.tensor([[[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]]))
    torch.testing.assert_close(box_normalised_to_pixels(norm, box), px)
    np.testing.assert_allclose(box_normalised_to_pixels(np.array([[0.25, 0.75]]),
                                                        np.array([0.0, 0.0, 8.0, 4.0])),
                               [[2.0, 3.0]])
    with pytest.raises(ValueError, match='box'):
        box_normalised_to_pixels(norm, box[:, :3])
