"""The crop in both conventions, against independent computations (PIL, per-pixel loops,
closed forms): the library's defaults and the authors' exact behaviour (config options)."""
import math

import numpy as np
import pytest
from PIL import Image

from mmhandobj.datasets.transforms import GenerateHandObjectTargets, HandObjectAffine
from mmhandobj.datasets.transforms.geometry import fuse_boxes, rotated_crop
from mmhandobj.datasets.transforms.reference_crop import origin_rotated_crop

#: fx != fy, as in real HO3D / DexYCB calibrations.
CAM = np.array([[617.3, 0, 312.4], [0, 610.1, 241.4], [0, 0, 1]])
SIZE = 64


def _pil_warp(img: np.ndarray, total: np.ndarray) -> np.ndarray:
    """The reference's warp: PIL ``Image.transform(AFFINE, inverse(total)[:2], NEAREST)``."""
    inv = np.linalg.inv(total)[:2].ravel()
    out = Image.fromarray(img).transform((SIZE, SIZE), Image.AFFINE, tuple(inv),
                                         resample=Image.NEAREST)
    return np.asarray(out)


def _results(rng, angle: float) -> dict:
    img = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    return dict(img=img, obj_mask_full=(img[:, :, 0] > 128).astype(np.uint8),
                crop_center=np.trunc(rng.uniform([50, 40], [110, 80])),
                crop_scale=float(rng.uniform(40, 110)), crop_rotation=angle,
                cam_intr=CAM.astype(np.float32),
                joints2d=rng.uniform([40, 30], [120, 90], (21, 2)).astype(np.float32),
                obj_kps2d=rng.uniform([40, 30], [120, 90], (21, 2)).astype(np.float32))


@pytest.mark.parametrize('angle', [0.0, 0.4, -2.9])
def test_reference_sampling_equals_pil_bit_for_bit(angle):
    rng = np.random.default_rng(7)
    for _ in range(5):
        results = _results(rng, angle)
        img, mask = results['img'].copy(), results['obj_mask_full'].copy()
        out = HandObjectAffine(SIZE, 'nearest', sampling='reference',
                               rotation='origin').transform(results)
        np.testing.assert_array_equal(out['img'], _pil_warp(img, out['crop_total']))
        np.testing.assert_array_equal(out['obj_mask_crop'], _pil_warp(mask, out['crop_total']))


def test_opencv_sampling_equals_rounded_inverse_map_loop():
    """Default grid: output pixel k takes input pixel round(T^-1 k) (a slow per-pixel loop)."""
    rng = np.random.default_rng(3)
    results = _results(rng, 0.7)
    img = results['img'].copy()
    out = HandObjectAffine(SIZE, 'nearest').transform(results)['img']
    inv = np.linalg.inv(rotated_crop(CAM, results['crop_center'], results['crop_scale'], 0.7,
                                     (SIZE, SIZE))[0])
    compared = 0
    for y in range(SIZE):
        for x in range(SIZE):
            u, v, _ = inv @ (x, y, 1.0)
            # OpenCV computes the map in 1/1024 px fixed point: skip near-ties of the rounding
            if min(abs(u - math.floor(u) - 0.5), abs(v - math.floor(v) - 0.5)) < 2e-3:
                continue
            col, row = math.floor(u + 0.5), math.floor(v + 0.5)
            inside = 0 <= col < img.shape[1] and 0 <= row < img.shape[0]
            expected = img[row, col] if inside else np.zeros(3, np.uint8)
            np.testing.assert_array_equal(out[y, x], expected, err_msg=f'pixel {(x, y)}')
            compared += 1
    assert compared > 0.95 * SIZE * SIZE


def test_reference_grid_differs_from_opencv_grid():
    rng = np.random.default_rng(5)
    results = _results(rng, 0.0)
    ours = HandObjectAffine(SIZE, 'nearest').transform(dict(results))['img']
    reference = HandObjectAffine(SIZE, 'nearest', sampling='reference').transform(
        dict(results))['img']
    assert (ours != reference).any()


def test_origin_rotation_closed_form_and_difference_from_camera_roll():
    centre, scale, angle = np.array([300.0, 200.0]), 250.0, 0.7
    total, cam_new, _ = origin_rotated_crop(CAM, centre, scale, angle, (256, 256))
    c, s = math.cos(angle), math.sin(angle)
    rot = np.array([[c, -s], [s, c]])
    points = np.array([[10.0, 20.0], [300.0, 200.0], [600.0, 470.0]])
    # rotate about pixel (0, 0), then crop centred on the rotated centre
    expected = 256 / scale * (points @ rot.T - rot @ centre) + 128
    np.testing.assert_allclose(points @ total[:2, :2].T + total[:2, 2], expected, atol=1e-9)
    # K' = A(c_K) K, c_K = centre rotated about the principal point
    centre_k = CAM[:2, 2] + rot @ (centre - CAM[:2, 2])
    np.testing.assert_allclose(cam_new[:2, 2], 256 / scale * (CAM[:2, 2] - centre_k) + 128)
    camera_total = rotated_crop(CAM, centre, scale, angle, (256, 256))[0]
    moved = np.abs(points @ (camera_total - total)[:2, :2].T + (camera_total - total)[:2, 2])
    assert moved.max() > 0.05  # fx != fy: the two conventions differ
    square = np.diag([617.3, 617.3, 1.0])
    square[:2, 2] = CAM[:2, 2]
    np.testing.assert_allclose(origin_rotated_crop(square, centre, scale, angle, (256, 256))[0],
                               rotated_crop(square, centre, scale, angle, (256, 256))[0],
                               atol=1e-9)


def _reference_test_box(points: np.ndarray, expand: float, total: np.ndarray) -> np.ndarray:
    """The reference's test box: box in the image (int-truncated centre), corners mapped."""
    xs, ys = points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)
    cx, cy = int((xs.max() + xs.min()) / 2), int((ys.max() + ys.min()) / 2)
    hw, hh = (xs.max() - xs.min()) * expand / 2, (ys.max() - ys.min()) * expand / 2
    corners = np.array([[cx - hw, cy - hh], [cx + hw, cy + hh]], np.float64)
    return (corners @ total[:2, :2].T + total[:2, 2]).reshape(4)


def test_original_frame_boxes_follow_reference_test_formula():
    rng = np.random.default_rng(11)
    results = HandObjectAffine(SIZE, 'nearest').transform(_results(rng, 0.0))
    total = results['crop_total']
    hand_pts, obj_pts = results['joints2d_precrop'], results['obj_kps2d_precrop']
    ours = GenerateHandObjectTargets(1.1, 1.0, box_frame='original').transform(dict(results))
    np.testing.assert_allclose(ours['hand_bbox'], _reference_test_box(hand_pts, 1.1, total),
                               atol=1e-4)
    np.testing.assert_allclose(ours['obj_bbox'], _reference_test_box(obj_pts, 1.0, total),
                               atol=1e-4)
    crop = GenerateHandObjectTargets(1.1, 1.0).transform(dict(results))
    assert not np.allclose(crop['hand_bbox'], ours['hand_bbox'], atol=1e-3)
    rotated = HandObjectAffine(SIZE).transform(_results(rng, 0.3))
    with pytest.raises(ValueError, match='unrotated crop'):
        GenerateHandObjectTargets(box_frame='original').transform(rotated)


def test_fuse_boxes_keeps_float32_when_one_box_gives_both_ends():
    # float32 box ends whose midpoint rounds up to 355 in float32 but is 354.99... in float64
    lo, hi = np.float32(320.7192), np.float32(389.28076)
    box1 = np.array([lo, 100, hi, 200], np.float32)
    box2 = np.array([330, 120, 380, 180], np.float32)
    centre, _ = fuse_boxes(box1, box2, (640, 480))
    reference_cx = np.trunc((lo + hi) / np.float32(2))  # the reference's float32 arithmetic
    assert reference_cx != np.trunc((float(lo) + float(hi)) / 2)  # the case is a real one
    assert centre[0] == reference_cx == 355
