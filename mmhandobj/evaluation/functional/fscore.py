"""F-score between point clouds from nearest-neighbour distances (HO3D / FreiHAND scorer).

For one sample with GT points G and predicted points P and a threshold ``th``:
``precision = mean_{g in G}[d(g, P) < th]`` (GT points matched), ``recall = mean_{p in P}[d(p,
G) < th]`` (predicted points close to GT), ``F = 2 * recall * precision / (recall +
precision)`` and ``F = 0`` when both are 0. No correspondence is assumed. Nearest neighbours
come from ``scipy.spatial.cKDTree``, which gives the exact Euclidean distances of the official
open3d implementation.
"""
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
from scipy.spatial import cKDTree

from .array_utils import check_points

#: Thresholds of the HO3D scorer, metres (F@5mm and F@15mm).
HO3D_FSCORE_THRESHOLDS = (0.005, 0.015)


def _num_threads(workers: int) -> int:
    """``workers`` if positive, else the number of CPUs."""
    return workers if workers > 0 else (os.cpu_count() or 1)


def nearest_neighbour_distances(src, dst, workers: int = 1) -> np.ndarray:
    """Distance from every point of ``src`` to its nearest point of ``dst``, per sample.

    Args:
        src: ``(N, P, 3)`` query points.
        dst: ``(N, Q, 3)`` reference points.
        workers: Threads over samples; ``-1`` for all CPUs.

    Returns:
        ``(N, P)`` float64 distances, in the input unit.
    """
    src = check_points(src, 'src')
    dst = check_points(dst, 'dst')
    if src.shape[0] != dst.shape[0]:
        raise ValueError(f'src has {src.shape[0]} samples but dst has {dst.shape[0]}')

    def one(index: int) -> np.ndarray:
        return cKDTree(dst[index], balanced_tree=False).query(src[index])[0]

    with ThreadPoolExecutor(_num_threads(workers)) as pool:
        rows = list(pool.map(one, range(src.shape[0])))
    return np.stack(rows) if rows else np.zeros((0, src.shape[1]))


def fscore_from_distances(gt_to_pred, pred_to_gt, thresholds: Sequence[float]) -> np.ndarray:
    """F-scores from the two directed nearest-neighbour distance sets (strict ``<``).

    Args:
        gt_to_pred: ``(N, P)`` distance of each GT point to the nearest prediction.
        pred_to_gt: ``(N, Q)`` distance of each predicted point to the nearest GT point.
        thresholds: ``T`` thresholds, same unit.

    Returns:
        ``(N, T)`` F-scores in [0, 1].
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    gt_to_pred = np.asarray(gt_to_pred, dtype=np.float64)
    pred_to_gt = np.asarray(pred_to_gt, dtype=np.float64)
    precision = (gt_to_pred[:, :, None] < thresholds).sum(axis=1) / gt_to_pred.shape[1]
    recall = (pred_to_gt[:, :, None] < thresholds).sum(axis=1) / pred_to_gt.shape[1]
    total = recall + precision
    safe = np.where(total > 0, total, 1.0)
    return np.where(total > 0, 2 * recall * precision / safe, 0.0)


def fscore_multi(gt, preds: Sequence, thresholds: Sequence[float] = HO3D_FSCORE_THRESHOLDS,
                 workers: int = 1) -> np.ndarray:
    """F-scores of several predictions of the same GT (e.g. raw and aligned vertices).

    The GT search tree of each sample is built once and shared by all predictions.

    Args:
        gt: ``(N, P, 3)`` GT points.
        preds: ``M`` arrays of shape ``(N, Q, 3)`` (Q may differ from P).
        thresholds: ``T`` thresholds, same unit as the points.
        workers: Threads over samples; ``-1`` for all CPUs.

    Returns:
        ``(M, N, T)`` F-scores.
    """
    gt = check_points(gt, 'gt')
    preds = [check_points(pred, f'preds[{i}]') for i, pred in enumerate(preds)]
    for i, pred in enumerate(preds):
        if pred.shape[0] != gt.shape[0]:
            raise ValueError(f'preds[{i}] has {pred.shape[0]} samples but gt has {gt.shape[0]}')
    thresholds = np.asarray(thresholds, dtype=np.float64)

    def one(index: int) -> np.ndarray:
        gt_tree = cKDTree(gt[index], balanced_tree=False)
        scores = []
        for pred in preds:
            pred_to_gt = gt_tree.query(pred[index])[0]
            gt_to_pred = cKDTree(pred[index], balanced_tree=False).query(gt[index])[0]
            scores.append(fscore_from_distances(gt_to_pred[None], pred_to_gt[None],
                                                thresholds)[0])
        return np.stack(scores)

    with ThreadPoolExecutor(_num_threads(workers)) as pool:
        rows = list(pool.map(one, range(gt.shape[0])))
    if not rows:
        return np.zeros((len(preds), 0, len(thresholds)))
    return np.stack(rows, axis=1)


def fscore(gt, pred, thresholds: Sequence[float] = HO3D_FSCORE_THRESHOLDS,
           workers: int = 1) -> np.ndarray:
    """Per-sample F-scores of one prediction.

    Args:
        gt: ``(N, P, 3)`` GT points.
        pred: ``(N, Q, 3)`` predicted points.
        thresholds: ``T`` thresholds, same unit (default 5 mm and 15 mm in metres).
        workers: Threads over samples; ``-1`` for all CPUs.

    Returns:
        ``(N, T)`` F-scores in [0, 1].
    """
    return fscore_multi(gt, [pred], thresholds, workers)[0]
