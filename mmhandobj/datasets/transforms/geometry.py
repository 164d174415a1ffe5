"""Crop geometry shared by the transforms (docs/reference_parity.md R18-R19, one convention).

Pixel convention: a pixel's centre has integer coordinates (OpenCV), and 2D points are in the
same continuous coordinates as the projection ``u = fx x / z + cx``.
"""
from typing import Sequence, Tuple

import cv2
import numpy as np


def bbox_from_points(points: np.ndarray, factor: float) -> np.ndarray:
    """Box around 2D points, expanded about an integer centre (reference ``get_bbox_joints``).

    The centre is truncated to integers as the reference does; the half-sizes are
    ``(max - min) * factor / 2`` per axis (not square). Arithmetic stays in the points' float
    precision (the reference's float32 arrays give float32), which decides the truncation when
    the centre lies within rounding of an integer (e.g. after a left-hand mirror).

    Args:
        points: ``(N, 2)`` pixels.
        factor: Expansion factor (1.5 crop, 1.1 hand RoI, 1.0 object RoI).

    Returns:
        ``(4,)`` float32 box x1y1x2y2.
    """
    points = np.asarray(points)
    if not np.issubdtype(points.dtype, np.floating):
        points = points.astype(np.float64)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(f'expected (N, 2) points, got shape {points.shape}')
    if not np.isfinite(points).all():
        raise ValueError('cannot build a box from NaN/inf points')
    lo, hi = points.min(0), points.max(0)
    centre = np.trunc((lo + hi) / 2)
    half = (hi - lo) * factor / 2
    return np.concatenate([centre - half, centre + half]).astype(np.float32)


def fuse_boxes(box1: np.ndarray, box2: np.ndarray,
               image_size: Tuple[int, int]) -> Tuple[np.ndarray, float]:
    """Square crop around two boxes (reference ``fuse_bbox``).

    Args:
        box1: ``(4,)`` x1y1x2y2 pixels.
        box2: ``(4,)`` x1y1x2y2 pixels.
        image_size: ``(W, H)``; the union is clipped to ``[0, W] x [0, H]``.

    Returns:
        ``(centre (2,) float64 with integer values, scale)``: scale is the side in pixels.
    """
    corners = np.concatenate([np.reshape(box1, (2, 2)), np.reshape(box2, (2, 2))])
    lo = np.maximum(corners.min(0), 0)
    hi = np.minimum(corners.max(0), image_size)
    centre = np.trunc((lo + hi) / 2)
    scale = float(max(hi - lo))
    if not scale > 0:
        raise ValueError(f'degenerate crop: union of boxes {np.round(corners, 2).tolist()} has '
                         f'no area inside the {image_size[0]}x{image_size[1]} image')
    return centre, scale


def crop_matrix(centre: Sequence[float], scale: float, out_size: Tuple[int, int]) -> np.ndarray:
    """3x3 affine mapping the ``scale``-sided square at ``centre`` onto ``out_size`` (W, H).

    Reference ``get_affine_trans_no_rot``: ``x' = W / s * (x - cx) + W / 2``.
    """
    width, height = out_size
    return np.array([[width / scale, 0, width * (0.5 - centre[0] / scale)],
                     [0, height / scale, height * (0.5 - centre[1] / scale)],
                     [0, 0, 1]], np.float64)


def camera_roll(angle: float) -> np.ndarray:
    """3x3 rotation about the camera z axis, ``[[c, -s, 0], [s, c, 0], [0, 0, 1]]`` (R2)."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]], np.float64)


def rotated_crop(cam_intr: np.ndarray, centre: Sequence[float], scale: float, angle: float,
                 out_size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one affine of the crop: rotate the camera by ``angle`` about z, then crop.

    Rolling the camera by ``R2`` moves image points by ``M = K R2 K^-1`` (an affine; a rotation
    about the principal point when fx = fy, which is the reference's
    ``get_affine_transform`` + ``post_rot_trans``, and exact for any K). The crop is then
    centred on the moved centre ``M c``: ``total = A(M c) M`` and ``K' = A(M c) K``, so that
    ``K' (R2 X)`` projects exactly onto ``total`` applied to the projection of ``X``.

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
    moved = cam_intr @ roll @ np.linalg.inv(cam_intr)
    moved_centre = moved @ np.array([centre[0], centre[1], 1.0])
    crop = crop_matrix(moved_centre[:2] / moved_centre[2], scale, out_size)
    return crop @ moved, crop @ cam_intr, roll


def rotate_axis_angle(axis_angle: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """Left-multiply the rotation of an axis-angle: ``rotvec(rotation @ Rot(aa))``."""
    mat, _ = cv2.Rodrigues(np.asarray(axis_angle, np.float64).reshape(3, 1))
    return cv2.Rodrigues(rotation @ mat)[0].reshape(3).astype(np.float32)
