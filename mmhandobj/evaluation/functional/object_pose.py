"""Object 6D pose errors: ADD, ADD-S, reprojection error (REP), centre error, diameters.

Poses map model points (object frame, metres) into a camera frame: ``x_cam = R x + t``.
Batched over N samples of the same object model.
"""
import numpy as np
from scipy.spatial import ConvexHull, QhullError, cKDTree
from scipy.spatial.distance import cdist

from .array_utils import to_float64

#: Diameter definitions understood by :func:`model_diameter`.
DIAMETER_MODES = ('aabb', 'max_extent')


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


def transform_points(points, rot, trans) -> np.ndarray:
    """Apply ``R x + t`` to model points for every pose.

    Args:
        points: ``(P, 3)`` model points.
        rot: ``(N, 3, 3)`` rotations.
        trans: ``(N, 3)`` translations.

    Returns:
        ``(N, P, 3)`` transformed points.
    """
    points = _check_model(points)
    rot, trans = _check_pose(rot, trans, 'pose')
    return np.einsum('nij,pj->npi', rot, points) + trans[:, None, :]


def add_error(points, pred_rot, pred_trans, gt_rot, gt_trans) -> np.ndarray:
    """ADD: mean distance between corresponding model points under the two poses.

    Args:
        points: ``(P, 3)`` model points.
        pred_rot, pred_trans: ``(N, 3, 3)``, ``(N, 3)`` predicted pose.
        gt_rot, gt_trans: ``(N, 3, 3)``, ``(N, 3)`` GT pose.

    Returns:
        ``(N,)`` errors in the unit of the points / translations.
    """
    pred = transform_points(points, pred_rot, pred_trans)
    gt = transform_points(points, gt_rot, gt_trans)
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
    pred = transform_points(points, pred_rot, pred_trans)
    gt = transform_points(points, gt_rot, gt_trans)
    return np.array([cKDTree(gt[i]).query(pred[i])[0].mean() for i in range(len(gt))])


def project_points(points_cam, cam_intr) -> np.ndarray:
    """Pinhole projection ``(u, v) = (K x)[:2] / ((K x)[2] + 1e-5)`` as HFL-Net computes REP.

    Args:
        points_cam: ``(N, P, 3)`` points in the camera frame.
        cam_intr: ``(N, 3, 3)`` or ``(3, 3)`` intrinsics.

    Returns:
        ``(N, P, 2)`` pixel coordinates.
    """
    cam_intr = to_float64(cam_intr, 'cam_intr')
    if cam_intr.shape == (3, 3):
        cam_intr = np.broadcast_to(cam_intr, (points_cam.shape[0], 3, 3))
    if cam_intr.shape != (points_cam.shape[0], 3, 3):
        raise ValueError(f'cam_intr: expected shape (3, 3) or ({points_cam.shape[0]}, 3, 3), '
                         f'got {tuple(cam_intr.shape)}')
    homo = np.einsum('nij,npj->npi', cam_intr, points_cam)
    return homo[..., :2] / (homo[..., 2:] + 1e-5)


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
        ``(N,)`` errors in pixels of the image ``cam_intr`` describes.
    """
    pred = transform_points(points, pred_rot, pred_trans)
    gt = transform_points(points, gt_rot, gt_trans)
    if mirror is not None:
        mirror = np.asarray(mirror, dtype=bool)
        pred[mirror, :, 0] *= -1
        gt[mirror, :, 0] *= -1
    diff = project_points(gt, cam_intr) - project_points(pred, cam_intr)
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
    pred = transform_points(center, pred_rot, pred_trans)
    gt = transform_points(center, gt_rot, gt_trans)
    return np.linalg.norm(gt - pred, axis=-1)[:, 0]


def model_diameter(points, mode: str = 'aabb') -> float:
    """Object "diameter" for the ADD(-S)-0.1D threshold.

    Args:
        points: ``(P, 3)`` model points.
        mode: ``'aabb'``: diagonal of the axis-aligned bounding box, what HFL-Net uses (it
            overestimates the true diameter); ``'max_extent'``: largest distance between two
            model points (the BOP definition), found on the convex hull.

    Returns:
        The diameter, in the unit of the points.
    """
    if mode not in DIAMETER_MODES:
        raise ValueError(f'diameter mode must be one of {DIAMETER_MODES}, got {mode!r}')
    points = _check_model(points)
    if mode == 'aabb':
        return float(np.linalg.norm(points.max(axis=0) - points.min(axis=0)))
    try:
        candidates = points[ConvexHull(points).vertices]
    except QhullError:  # flat or collinear models have no 3D hull; use every point
        candidates = points
    return float(max(cdist(candidates[start:start + 1024], candidates).max()
                     for start in range(0, len(candidates), 1024)))
