"""Camera geometry used to draw hands and objects on the original image.

Frames: OpenCV camera (x right, y down, z forward), metres; pixels of the original image.
"""
from typing import Tuple

import numpy as np

from mmhandobj.structures.geometry import REP_DEPTH_EPS, pinhole_project
from mmhandobj.structures.sample_fields import to_float64

#: The 12 edges of the object box as pairs of corner ids (0-7 of ``bbox21_from_points``:
#: corner ``i`` takes x max when bit 0 is set, y max for bit 1, z max for bit 2), so each edge
#: joins two corners that differ in exactly one bit.
BOX_EDGES: Tuple[Tuple[int, int], ...] = tuple(
    (i, i | (1 << bit)) for bit in range(3) for i in range(8) if not (i >> bit) & 1)

#: Points closer to the camera plane than this (metres) are not projected.
MIN_DEPTH = 1e-4


def project_to_image(points_cam: np.ndarray,
                     cam_intr: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Project camera-frame points, flagging undrawable ones.

    The projection is the one of the REP metric (depth offset
    :data:`~mmhandobj.structures.geometry.REP_DEPTH_EPS`), so boxes are drawn where REP
    measures them.

    Args:
        points_cam: ``(P, 3)`` points in the camera frame, metres.
        cam_intr: ``(3, 3)`` intrinsics.

    Returns:
        tuple: ``(P, 2)`` float64 pixels and a ``(P,)`` bool mask, True where the point is
        finite and in front of the camera (z > :data:`MIN_DEPTH`).
    """
    points_cam = to_float64(points_cam, 'points_cam')
    if points_cam.ndim != 2 or points_cam.shape[1] != 3:
        raise ValueError(f'points_cam: expected shape (P, 3), got {points_cam.shape}')
    pixels = pinhole_project(points_cam[None], to_float64(cam_intr, 'cam_intr')[None],
                             REP_DEPTH_EPS)[0]
    valid = (np.isfinite(points_cam).all(axis=1) & (points_cam[:, 2] > MIN_DEPTH)
             & np.isfinite(pixels).all(axis=1))
    return pixels, valid


def box_corners(box: np.ndarray) -> np.ndarray:
    """Corners of an x1y1x2y2 box in drawing order.

    Args:
        box: ``(4,)`` x1, y1, x2, y2.

    Returns:
        ``(4, 2)`` float64 corners: top-left, top-right, bottom-right, bottom-left.
    """
    x1, y1, x2, y2 = to_float64(box, 'box').reshape(4)
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
