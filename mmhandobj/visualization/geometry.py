"""Camera geometry used to draw hands and objects on the original image.

Frames: OpenCV camera (x right, y down, z forward), metres; pixels of the original image.
"""
from typing import Optional, Tuple

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


def fit_root_translation(joints_rel: np.ndarray, joints2d: np.ndarray,
                         cam_intr: np.ndarray) -> Optional[np.ndarray]:
    """Camera translation of a root-relative hand that best explains its 2D joints.

    Solves, in the least-squares sense, the linear equations
    ``(K[r] - u_r K[2]) . (X_j + t) = 0`` (r = 0 with ``u_0 = u``, r = 1 with ``u_1 = v``) for
    every joint ``j``: the projection of ``X_j + t`` lands on the observed pixel ``(u, v)``.
    Used only to place a predicted mesh on the image when no root joint is known.

    Args:
        joints_rel: ``(J, 3)`` root-relative joints, metres, camera axes.
        joints2d: ``(J, 2)`` the same joints observed in the image, pixels.
        cam_intr: ``(3, 3)`` intrinsics of that image.

    Returns:
        ``(3,)`` translation in metres, or None when the fit is not finite or puts the root
        behind the camera.
    """
    joints_rel = to_float64(joints_rel, 'joints_rel')
    joints2d = to_float64(joints2d, 'joints2d')
    cam_intr = to_float64(cam_intr, 'cam_intr')
    if joints_rel.ndim != 2 or joints_rel.shape[1] != 3 or joints2d.shape != (
            joints_rel.shape[0], 2):
        raise ValueError(f'joints_rel (J, 3) and joints2d (J, 2) expected, got '
                         f'{joints_rel.shape} and {joints2d.shape}')
    rows = np.concatenate([cam_intr[None, 0] - joints2d[:, :1] * cam_intr[None, 2],
                           cam_intr[None, 1] - joints2d[:, 1:] * cam_intr[None, 2]])
    rhs = -np.einsum('nk,nk->n', rows, np.concatenate([joints_rel, joints_rel]))
    keep = np.isfinite(rows).all(axis=1) & np.isfinite(rhs)
    if keep.sum() < 3:
        return None
    trans = np.linalg.lstsq(rows[keep], rhs[keep], rcond=None)[0]
    if not np.isfinite(trans).all() or trans[2] <= MIN_DEPTH:
        return None
    return trans


def box_corners(box: np.ndarray) -> np.ndarray:
    """Corners of an x1y1x2y2 box in drawing order.

    Args:
        box: ``(4,)`` x1, y1, x2, y2.

    Returns:
        ``(4, 2)`` float64 corners: top-left, top-right, bottom-right, bottom-left.
    """
    x1, y1, x2, y2 = to_float64(box, 'box').reshape(4)
    return np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
