"""The 21 object box keypoints and the object "diameter" used by HFL-Net.

The keypoints are the 8 corners, 12 edge midpoints and the centre of the axis-aligned bounding
box (AABB) of the object model points, in the object model frame. Naming: b/t = z min/max,
l/r = x min/max, "behind"/"front" = y min/max.
"""
import numpy as np
from scipy.spatial import ConvexHull, QhullError
from scipy.spatial.distance import cdist

#: Names of the 21 keypoints in the order returned by :func:`bbox21_from_points`.
BBOX21_NAMES = (
    'blb', 'brb', 'blf', 'brf', 'tlb', 'trb', 'tlf', 'trf',
    'ble', 'bre', 'bfe', 'bbe', 'tle', 'tre', 'tfe', 'tbe',
    'lfe', 'lbe', 'rfe', 'rbe', 'centre')


def bbox21_from_points(points: np.ndarray) -> np.ndarray:
    """Compute the 21 AABB keypoints of an object point cloud.

    Args:
        points: ``(N, 3)`` model points in the object frame (metres).

    Returns:
        ``(21, 3)`` float32 keypoints (metres): corners 0-7 (x varies fastest, then y, then z),
        bottom-edge midpoints 8-11, top-edge midpoints 12-15, vertical-edge midpoints 16-19 and
        the box centre 20.
    """
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f'expected object points of shape (N, 3), got {points.shape}')
    lo, hi = points.min(0), points.max(0)
    corners = np.array([[(lo, hi)[(i >> 0) & 1][0], (lo, hi)[(i >> 1) & 1][1],
                         (lo, hi)[(i >> 2) & 1][2]] for i in range(8)])
    blb, brb, blf, brf, tlb, trb, tlf, trf = corners
    mids = [
        (blb + blf) / 2, (brb + brf) / 2, (blf + brf) / 2, (blb + brb) / 2,
        (tlb + tlf) / 2, (trb + trf) / 2, (tlf + trf) / 2, (tlb + trb) / 2,
        (tlf + blf) / 2, (tlb + blb) / 2, (trf + brf) / 2, (trb + brb) / 2,
        (tlb + brf) / 2,
    ]
    return np.concatenate([corners, np.stack(mids)]).astype(np.float32)


#: Diameter definitions understood by :func:`object_diameter`. ``'max_extent'`` is another
#: name of ``'max'`` (the name the object pose metric has always accepted).
DIAMETER_MODES = ('aabb', 'max', 'max_extent')
#: Hull points compared at once when searching the largest distance (bounds the memory).
_DIAMETER_CHUNK = 1024


def object_diameter(points: np.ndarray, mode: str = 'aabb') -> float:
    """Object size used by the ADD(-S)-0.1D threshold: the one definition of the project.

    Args:
        points: ``(N, 3)`` model points (metres).
        mode: ``'aabb'``: diagonal of the axis-aligned bounding box, what HFL-Net uses (it
            overestimates the true diameter); ``'max'`` (or its alias ``'max_extent'``): the
            true diameter, the largest distance between two model points (the BOP definition),
            found among the convex-hull vertices (every point for flat or collinear models).

    Returns:
        The diameter, in the unit of the points.
    """
    if mode not in DIAMETER_MODES:
        raise ValueError(f'diameter mode must be one of {DIAMETER_MODES}, got {mode!r}')
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) == 0:
        raise ValueError(f'expected object points of shape (N>0, 3), got {points.shape}')
    if mode == 'aabb':
        return float(np.linalg.norm(points.max(0) - points.min(0)))
    try:
        candidates = points[ConvexHull(points).vertices]
    except QhullError:  # flat, collinear or tiny models have no 3D hull; use every point
        candidates = points
    return float(max(cdist(candidates[start:start + _DIAMETER_CHUNK], candidates).max()
                     for start in range(0, len(candidates), _DIAMETER_CHUNK)))
