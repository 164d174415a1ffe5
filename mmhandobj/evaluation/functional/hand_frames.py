"""Placing root-relative hand predictions in the original camera before scoring."""
import numpy as np

from mmhandobj.structures.geometry import mirror_points_3d

from .array_utils import check_points, to_float64


def root_relative_to_camera(points, root, flip) -> np.ndarray:
    """Undo the left-hand mirror of root-relative predictions and add the GT root.

    ``x *= -1`` for samples with ``flip`` True (the network saw a mirrored right hand), then
    ``+ root``: the HFL-Net / HandOccNet evaluation protocol.

    Args:
        points: ``(N, K, 3)`` root-relative points in the network's (possibly mirrored) frame.
        root: ``(N, 3)`` GT root in the original camera frame.
        flip: ``(N,)`` bools.

    Returns:
        ``(N, K, 3)`` points in the original camera frame.
    """
    points = check_points(points, 'points').copy()
    root = to_float64(root, 'root')
    if root.shape != (points.shape[0], 3):
        raise ValueError(f'root: expected shape ({points.shape[0]}, 3), got {root.shape}')
    flip = np.asarray(flip, dtype=bool)
    points[flip] = mirror_points_3d(points[flip])
    return points + root[:, None, :]
