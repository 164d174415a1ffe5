"""Pinhole camera helpers."""
import numpy as np


def pinhole_project(points: np.ndarray, cam_intr: np.ndarray) -> np.ndarray:
    """Project points of the OpenCV camera frame to pixels.

    Args:
        points: ``(N, 3)`` points, OpenCV camera (z forward), metres, z > 0.
        cam_intr: ``(3, 3)`` intrinsics.

    Returns:
        ``(N, 2)`` pixel coordinates.
    """
    uvw = points @ cam_intr.T
    return uvw[:, :2] / uvw[:, 2:3]
