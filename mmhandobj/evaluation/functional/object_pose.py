"""Object 6D pose errors: ADD, ADD-S, reprojection error (REP) and centre error.

The object diameter of the ADD-0.1D threshold is :func:`mmhandobj.structures.object_diameter`.

Poses map model points (object frame, metres) into a camera frame: ``x_cam = R x + t``.
Batched over N samples of the same object model.
"""
import numpy as np
from scipy.spatial import cKDTree

from mmhandobj.structures.geometry import (
    REP_DEPTH_EPS,
    mirror_points_3d,
    pinhole_project,
    transform_points_3d,
)

from .array_utils import to_float64


def _check_model(points) -> np.ndarray:
    points = to_float64(points, 'model points')
    if points.ndim != 2 or points.shape[1] != 3 or points.shape[0] == 0:
        raise ValueError(f'model points: expected shape (P>0, 3), got {tuple(points.shape)}')
    return points


def _check_pose(rot, trans, name: str):
    rot = to_float64(rot, f'{name} rotation')
    trans = to_float64(trans, f'{name} translation')
    if rot.ndim != 3 or rot.shape[1:] != (3, 3):
        raise ValueError(f'{name} rotation: expected shape (N, 3, 3), got {tuple(rot.shape)}')
    if trans.shape != (rot.shape[0], 3):
        raise ValueError(f'{name} translation: expected shape ({rot.shape[0]}, 3), '
                         f'got {tuple(trans.shape)}')
    return rot, trans


def _posed(points, rot, trans, name: str = 'pose') -> np.ndarray:
    """Check the model points and poses, then return ``(N, P, 3)`` posed points."""
    points = _check_model(points)
    rot, trans = _check_pose(rot, trans, name)
    return transform_points_3d(points, rot, trans)


def add_error(points, pred_rot, pred_trans, gt_rot, gt_trans) -> np.ndarray:
    """ADD: mean distance between corresponding model points under the two poses.

    Args:
        points: ``(P, 3)`` model points.
        pred_rot, pred_trans: ``(N, 3, 3)``, ``(N, 3)`` predicted pose.
        gt_rot, gt_trans: ``(N, 3, 3)``, ``(N, 3)`` GT pose.

    Returns:
        ``(N,)`` errors in the unit of the points / translations.
    """
    pred = _posed(points, pred_rot, pred_trans)
    gt = _posed(points, gt_rot, gt_trans)
    return np.linalg.norm(gt - pred, axis=-1).mean(axis=-1)


def adds_error(points, pred_rot, pred_trans, gt_rot, gt_trans) -> np.ndarray:
    """ADD-S: mean over predicted points of the distance to the closest GT point.

    This is HFL-Net's ``compute_ADD_s_error`` (min over GT points for each predicted point),
    with a k-d tree instead of a dense GPU distance matrix.

    Args:
        points: ``(P, 3)`` model points.
        pred_rot, pred_trans: ``(N, 3, 3)``, ``(N, 3)`` predicted pose.
        gt_rot, gt_trans: ``(N, 3, 3)``, ``(N, 3)`` GT pose.

    Returns:
        ``(N,)`` errors.
    """
    pred = _posed(points, pred_rot, pred_trans)
    gt = _posed(points, gt_rot, gt_trans)
    return np.array([cKDTree(gt[i]).query(pred[i])[0].mean() for i in range(len(gt))])


def reprojection_error(points, pred_rot, pred_trans, gt_rot, gt_trans, cam_intr,
                       mirror: np.ndarray = None) -> np.ndarray:
    """REP: mean 2D distance between the model points projected with the two poses.

    Args:
        points: ``(P, 3)`` model points.
        pred_rot, pred_trans: ``(N, 3, 3)``, ``(N, 3)`` predicted pose.
        gt_rot, gt_trans: ``(N, 3, 3)``, ``(N, 3)`` GT pose.
        cam_intr: ``(N, 3, 3)`` or ``(3, 3)`` intrinsics of the target image.
        mirror: Optional ``(N,)`` bools; where True the camera-frame points get ``x *= -1``
            before projection (for intrinsics of a left-right mirrored image).

    Returns:
        ``(N,)`` errors in pixels of the image ``cam_intr`` describes. Points are projected
        as HFL-Net does for REP, with :data:`~mmhandobj.structures.geometry.REP_DEPTH_EPS`
        added to the depth.
    """
    pred = _posed(points, pred_rot, pred_trans)
    gt = _posed(points, gt_rot, gt_trans)
    if mirror is not None:
        mirror = np.asarray(mirror, dtype=bool)
        pred[mirror] = mirror_points_3d(pred[mirror])
        gt[mirror] = mirror_points_3d(gt[mirror])
    cam_intr = to_float64(cam_intr, 'cam_intr')
    if cam_intr.shape == (3, 3):
        cam_intr = np.broadcast_to(cam_intr, (gt.shape[0], 3, 3))
    if cam_intr.shape != (gt.shape[0], 3, 3):
        raise ValueError(f'cam_intr: expected shape (3, 3) or ({gt.shape[0]}, 3, 3), '
                         f'got {tuple(cam_intr.shape)}')
    diff = (pinhole_project(gt, cam_intr, REP_DEPTH_EPS)
            - pinhole_project(pred, cam_intr, REP_DEPTH_EPS))
    return np.linalg.norm(diff, axis=-1).mean(axis=-1)


def center_error(center, pred_rot, pred_trans, gt_rot, gt_trans) -> np.ndarray:
    """Object-centre error (OCE): distance between the model centre under the two poses.

    Args:
        center: ``(3,)`` centre in the model frame (e.g. the mean of the model points).
        pred_rot, pred_trans: ``(N, 3, 3)``, ``(N, 3)`` predicted pose.
        gt_rot, gt_trans: ``(N, 3, 3)``, ``(N, 3)`` GT pose.

    Returns:
        ``(N,)`` errors.
    """
    center = to_float64(center, 'center').reshape(1, 3)
    pred = _posed(center, pred_rot, pred_trans)
    gt = _posed(center, gt_rot, gt_trans)
    return np.linalg.norm(gt - pred, axis=-1)[:, 0]
