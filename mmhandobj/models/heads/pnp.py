"""Object pose from keypoint votes: vote selection and EPnP-RANSAC (reference ``fuse_test``).

Pipeline (chained by :meth:`~mmhandobj.models.heads.ObjectKeypointHead.predict`):

1. :func:`select_votes` keeps, per keypoint, the ``topk`` most confident cells whose confidence
   exceeds ``conf_thr`` (box-normalised coordinates).
2. :func:`~mmhandobj.structures.geometry.box_normalised_to_pixels` maps them to crop pixels
   with the object box, then :func:`~mmhandobj.structures.geometry.crop_to_image` to
   original-image pixels.
3. :func:`solve_object_pose`, the PnP solver, runs ``cv2.solvePnPRansac`` (EPnP) against the
   matching 3D box keypoints, with the reference's fallback pose.
"""
from typing import List, Tuple, Union

import cv2
import numpy as np
import torch
from torch import Tensor

ArrayLike = Union[np.ndarray, Tensor]

#: Pose returned when PnP is not attempted or fails (reference behaviour): identity rotation,
#: translation 1 m straight ahead of the camera.
FALLBACK_ROTATION = np.eye(3)
FALLBACK_TRANSLATION = np.array([0.0, 0.0, 1.0])

#: OpenCV 4's documented ``solvePnPRansac`` defaults, which the reference relied on. They are
#: passed explicitly so that a change of OpenCV's defaults cannot change the results.
RANSAC_ITERATIONS = 100
RANSAC_REPROJ_ERROR_PX = 8.0
RANSAC_CONFIDENCE = 0.99


def select_votes(vote_x: Tensor, vote_y: Tensor, vote_conf: Tensor, topk: int = 10,
                 conf_thr: float = 0.5) -> List[Tuple[Tensor, Tensor]]:
    """Select the confident keypoint votes of each sample.

    Equivalent to the reference's greedy loop (``topk`` rounds of: for every keypoint take the
    arg-max-confidence cell, keep it if its confidence is ``> conf_thr``, then zero it). That is
    per keypoint the ``topk`` highest-confidence cells above the threshold, ties broken towards
    the lowest flat cell index ``row * W + col`` (NumPy's ``argmax``). The output order is the
    reference's too: round-major, keypoint-minor (round 0: keypoints 0..K-1, round 1, ...); it
    matters because RANSAC's sampling depends on the point order.

    Args:
        vote_x, vote_y: ``(B, H, W, K)`` votes, object-box-normalised.
        vote_conf: ``(B, H, W, K)`` confidences.
        topk (int): Rounds (at most ``H * W`` are used).
        conf_thr (float): Strict lower bound on the confidence of a kept vote.

    Returns:
        One ``(points, keypoint_ids)`` per sample: ``points`` ``(M, 2)`` (x, y) box-normalised
        and ``keypoint_ids`` ``(M,)`` int64 in ``[0, K)``, with ``0 <= M <= topk * K``.
    """
    if not (vote_x.shape == vote_y.shape == vote_conf.shape) or vote_x.dim() != 4:
        raise ValueError('vote_x, vote_y and vote_conf must share a (B, H, W, K) shape, got '
                         f'{tuple(vote_x.shape)}, {tuple(vote_y.shape)}, '
                         f'{tuple(vote_conf.shape)}')
    b, h, w, k = vote_conf.shape
    rounds = min(topk, h * w)
    conf = vote_conf.detach().reshape(b, h * w, k)
    order = torch.sort(conf, dim=1, descending=True, stable=True).indices[:, :rounds]
    best_conf = conf.gather(1, order)
    best_x = vote_x.detach().reshape(b, h * w, k).gather(1, order)
    best_y = vote_y.detach().reshape(b, h * w, k).gather(1, order)
    keep = best_conf > conf_thr
    kp_ids = torch.arange(k, device=conf.device).expand(rounds, k)
    return [(torch.stack([best_x[i][keep[i]], best_y[i][keep[i]]], dim=1), kp_ids[keep[i]])
            for i in range(b)]


def best_votes(vote_x: Tensor, vote_y: Tensor, vote_conf: Tensor) -> Tensor:
    """Most confident vote of each keypoint.

    Args:
        vote_x, vote_y, vote_conf: ``(B, H, W, K)`` votes (object-box-normalised) and their
            confidences.

    Returns:
        ``(B, K, 2)`` object-box-normalised (x, y); ties go to the lowest flat cell index.
    """
    conf = vote_conf.flatten(1, 2)
    idx = conf.argmax(dim=1, keepdim=True)
    vx = vote_x.flatten(1, 2).gather(1, idx)[:, 0]
    vy = vote_y.flatten(1, 2).gather(1, idx)[:, 0]
    return torch.stack([vx, vy], dim=-1)


def _as_float64(array: ArrayLike, name: str, shape_tail: Tuple[int, ...]) -> np.ndarray:
    if isinstance(array, Tensor):
        array = array.detach().cpu().numpy()
    array = np.asarray(array, dtype=np.float64)
    if array.shape[1:] != shape_tail or array.ndim != 1 + len(shape_tail):
        raise ValueError(f'{name} must have shape (M, {", ".join(map(str, shape_tail))}), '
                         f'got {array.shape}')
    return np.ascontiguousarray(array)


def solve_object_pose(points2d_px: ArrayLike, points3d: ArrayLike, K: ArrayLike,
                      min_points: int = 6) -> Tuple[np.ndarray, np.ndarray, bool]:
    """EPnP inside RANSAC, with the reference's fallback.

    Calls ``cv2.solvePnPRansac(points3d, points2d_px, K, None, flags=cv2.SOLVEPNP_EPNP)`` with
    100 iterations, 8 px reprojection threshold and confidence 0.99 (OpenCV 4 defaults, passed
    explicitly) and no distortion. Inputs are converted to float64.

    Fallback: when there are fewer than ``min_points`` correspondences, or OpenCV reports
    failure, the pose is ``R = I``, ``t = (0, 0, 1)`` and ``success`` is False.

    Args:
        points2d_px: ``(M, 2)`` image points, pixels of the frame ``K`` describes.
        points3d: ``(M, 3)`` matching model points (object frame, metres).
        K: ``(3, 3)`` camera intrinsics.
        min_points (int): Fewest correspondences for which PnP is attempted (>= 4).

    Returns:
        ``R`` ``(3, 3)`` float64, ``t`` ``(3,)`` float64 (metres; model -> camera), ``success``.
    """
    if min_points < 4:
        raise ValueError(f'EPnP needs at least 4 points; min_points={min_points}')
    p2d = _as_float64(points2d_px, 'points2d_px', (2,))
    p3d = _as_float64(points3d, 'points3d', (3,))
    intr = _as_float64(K, 'K', (3,))
    if intr.shape != (3, 3):
        raise ValueError(f'K must have shape (3, 3), got {intr.shape}')
    if len(p2d) != len(p3d):
        raise ValueError(f'{len(p2d)} image points but {len(p3d)} model points')
    if len(p2d) < min_points:
        return FALLBACK_ROTATION.copy(), FALLBACK_TRANSLATION.copy(), False
    ok, rvec, tvec, _ = cv2.solvePnPRansac(
        p3d, p2d, intr, None, iterationsCount=RANSAC_ITERATIONS,
        reprojectionError=RANSAC_REPROJ_ERROR_PX, confidence=RANSAC_CONFIDENCE,
        flags=cv2.SOLVEPNP_EPNP)
    if not ok:
        return FALLBACK_ROTATION.copy(), FALLBACK_TRANSLATION.copy(), False
    return cv2.Rodrigues(rvec)[0], tvec.reshape(3), True
