"""The authors' crop conventions, offered as options to reproduce their inputs bit for bit.

Three conventions of the HFL-Net reference differ from this library's defaults (see
``docs/crop_conventions.md`` for each one's size):

* **Sampling grid.** The reference warps with PIL's ``Image.transform(AFFINE, NEAREST)``: output
  pixel ``k`` (its centre at ``k + 1/2`` in PIL's corner-origin coordinates) takes input pixel
  ``floor(T^-1 (k + 1/2))``, computed in 16.16 fixed point (rotations) or by repeated float64
  additions (scale + shift only). OpenCV's ``warpAffine`` takes ``round(T^-1 k)``.
  :func:`pil_affine_nearest` emulates PIL's arithmetic exactly.
* **Rotation centre.** The reference rotates the image points about the image origin and
  re-centres (``total = A(R2 c) R2``) while the new intrinsics rotate the crop centre about the
  principal point; this library rolls the camera (``K R2 K^-1``), which is the same map when
  ``fx = fy``. :func:`origin_rotated_crop` is the reference's version.
* **Test-time RoI boxes.** The reference boxes the hand/object points in the original image
  and maps the box corners into the crop (:class:`GenerateHandObjectTargets` with
  ``box_frame='original'``); this library boxes the points after mapping them.
"""
from typing import Sequence, Tuple

import numpy as np

from .geometry import camera_roll, crop_matrix

#: PIL's fixed-point scale (16.16) for affine nearest-neighbour warps.
_PIL_FIXED_ONE = 65536
#: PIL uses fixed point only while every source coordinate stays below this (pixels).
_PIL_FIXED_LIMIT = 32768.0


def _pil_coord(values: np.ndarray) -> np.ndarray:
    """PIL's ``COORD``: truncation, with every negative value mapped to -1."""
    return np.where(values < 0.0, -1, np.trunc(values)).astype(np.int64)


def _pil_source_indices(inv: np.ndarray, out_size: Tuple[int, int]
                        ) -> Tuple[np.ndarray, np.ndarray]:
    """Input column and row index of every output pixel, as PIL's affine NEAREST computes them.

    Args:
        inv: ``(2, 3)`` output -> input affine (PIL's ``data``), pixel corner coordinates.
        out_size: Output ``(W, H)``.

    Returns:
        ``(xin, yin)``, each ``(H, W)`` int64 (out-of-range values mean "fill with 0").
    """
    a = np.asarray(inv, np.float64).reshape(6)
    width, height = out_size
    if a[1] == 0 and a[3] == 0:  # PIL's ImagingScaleAffine: sequential float64 sums
        xs = np.add.accumulate(np.concatenate([[a[2] + a[0] * 0.5], np.full(width - 1, a[0])]))
        ys = np.add.accumulate(np.concatenate([[a[5] + a[4] * 0.5], np.full(height - 1, a[4])]))
        xin, yin = _pil_coord(xs), _pil_coord(ys)
        return np.broadcast_to(xin[None], (height, width)), np.broadcast_to(
            yin[:, None], (height, width))
    corners = np.array([[0, 0], [width, height], [0, height], [width, 0]], np.float64)
    src = corners @ a.reshape(2, 3)[:, :2].T + a.reshape(2, 3)[:, 2]
    if not (np.abs(src) < _PIL_FIXED_LIMIT).all():
        raise ValueError('the crop maps outside PIL\'s fixed-point range (|coordinate| >= '
                         f'{_PIL_FIXED_LIMIT:.0f} px); the reference grid is not defined there')

    def fix(v: float) -> int:
        return int(np.floor(v * _PIL_FIXED_ONE + 0.5))

    a0, a1, a3, a4 = fix(a[0]), fix(a[1]), fix(a[3]), fix(a[4])
    a2, a5 = fix(a[2] + a[0] * 0.5 + a[1] * 0.5), fix(a[5] + a[3] * 0.5 + a[4] * 0.5)
    cols, rows = np.arange(width, dtype=np.int64), np.arange(height, dtype=np.int64)[:, None]
    xx = a2 + rows * a1 + cols * a0
    yy = a5 + rows * a4 + cols * a3
    return xx >> 16, yy >> 16


def pil_affine_nearest(img: np.ndarray, total: np.ndarray,
                       out_size: Tuple[int, int]) -> np.ndarray:
    """Warp as ``PIL.Image.transform(out_size, AFFINE, inv(total)[:2], NEAREST)`` does.

    Args:
        img: ``(H, W)`` or ``(H, W, C)`` array (any dtype).
        total: ``(3, 3)`` (or ``(2, 3)``) image -> crop affine, pixels.
        out_size: Output ``(W, H)``.

    Returns:
        The warped array, ``(h, w[, C])`` of ``img``'s dtype; pixels mapped from outside the
        image are 0.
    """
    total = np.asarray(total, np.float64)
    if total.shape == (2, 3):
        total = np.vstack([total, [0, 0, 1]])
    xin, yin = _pil_source_indices(np.linalg.inv(total)[:2], out_size)
    height, width = img.shape[:2]
    inside = (xin >= 0) & (xin < width) & (yin >= 0) & (yin < height)
    out = np.zeros((out_size[1], out_size[0]) + img.shape[2:], img.dtype)
    out[inside] = img[yin[inside], xin[inside]]
    return out


def pil_grid_inverse_map(total: np.ndarray) -> np.ndarray:
    """``(2, 3)`` crop -> image map sampling PIL's grid, for ``cv2.warpAffine`` inverse mode.

    Output pixel ``k`` samples the point ``T^-1 (k + 1/2) - 1/2`` of the pixel-centre
    convention (PIL's bilinear sample position); used for bilinear warps on the reference
    grid (OpenCV's bilinear weights, so not bit-exact with PIL's).
    """
    inv = np.linalg.inv(np.asarray(total, np.float64))[:2]
    half = np.array([0.5, 0.5])
    return np.hstack([inv[:, :2], (inv[:, :2] @ half + inv[:, 2] - half)[:, None]])


def origin_rotated_crop(cam_intr: np.ndarray, centre: Sequence[float], scale: float,
                        angle: float, out_size: Tuple[int, int]
                        ) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reference's rotated crop: points rotate about the image origin, K about pp.

    ``total = A(R2 c) R2`` (2D rotation by ``R2`` about pixel (0, 0), then the crop centred on
    the moved centre) and ``K' = A(c_K) K`` with ``c_K = pp + R2 (c - pp)``, ``pp`` the
    principal point. With ``fx = fy`` this equals
    :func:`~mmhandobj.datasets.transforms.geometry.rotated_crop`.

    Args:
        cam_intr: ``(3, 3)`` intrinsics of the (possibly mirrored) image.
        centre: Crop centre (px).
        scale: Crop side (px).
        angle: Roll angle (radians).
        out_size: Output ``(W, H)``.

    Returns:
        ``(total (3, 3), new intrinsics (3, 3), R2 (3, 3))`` float64.
    """
    cam_intr = np.asarray(cam_intr, np.float64)
    roll = camera_roll(angle)
    centre = np.asarray(centre, np.float64)[:2]
    total = crop_matrix(roll[:2, :2] @ centre, scale, out_size) @ roll
    pp = cam_intr[:2, 2]
    centre_k = pp + roll[:2, :2] @ (centre - pp)
    return total, crop_matrix(centre_k, scale, out_size) @ cam_intr, roll
