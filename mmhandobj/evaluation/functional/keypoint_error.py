"""Point errors (MPJPE / MPVPE), PCK curves and AUC, as the official hand scorers compute them.

Also the 2D joint error of a keypoint predictor (:func:`keypoint_2d_measures`): end-point error
(EPE), PCK at a few pixel thresholds and the AUC, in the pixels the caller gives (the hand
metrics use the original image, after un-mirroring).

The HO3D, FreiHAND and dex-ycb-toolkit scorers share FreiHAND's ``EvalUtil``: per point index,
the error is averaged over samples and a PCK curve is built with ``error <= threshold``; the
AUC of each curve is ``trapezoid(pck, thresholds) / trapezoid(1, thresholds)``; the reported
numbers are the means over point indices. :func:`point_error_measures` reproduces that.
"""
from typing import Dict, NamedTuple, Sequence

import numpy as np

from .alignment import align_points
from .array_utils import check_points, check_same_shape, to_float64

#: PCK thresholds of the hand 2D joint metrics, pixels of the original image.
KEYPOINT_2D_PCK_THRESHOLDS_PX = (5.0, 10.0, 20.0)
#: Upper end of the hand 2D AUC, pixels: PCK integrated over ``linspace(0, 30, 100)``.
KEYPOINT_2D_AUC_MAX_PX = 30.0


def point_distances(pred, gt, alignment: str = 'none', root_index: int = 0) -> np.ndarray:
    """Euclidean distance of every predicted point to its GT point, after alignment.

    Args:
        pred: ``(N, K, 3)`` predictions.
        gt: ``(N, K, 3)`` ground truth, same units.
        alignment: See :func:`~mmhandobj.evaluation.functional.align_points`.
        root_index: Root point for ``'root'`` / ``'scale_translation'``.

    Returns:
        ``(N, K)`` float64 distances, in the input unit.
    """
    pred, gt = align_points(pred, gt, alignment, root_index)
    return np.sqrt(np.sum(np.square(gt - pred), axis=-1))


def mpjpe(pred, gt, alignment: str = 'none', root_index: int = 0) -> float:
    """Mean per-point position error (MPJPE for joints, MPVPE for vertices).

    Args:
        pred: ``(N, K, 3)`` predictions.
        gt: ``(N, K, 3)`` ground truth, same units.
        alignment: ``'none'``, ``'root'``, ``'procrustes'`` (reflection allowed, official
            HO3D/DexYCB-toolkit), ``'umeyama'`` (reflection forbidden, HFL-Net PA-MPJPE) or
            ``'scale_translation'``.
        root_index: Root point for ``'root'`` / ``'scale_translation'``.

    Returns:
        The mean distance in the input unit.
    """
    return float(point_distances(pred, gt, alignment, root_index).mean())


def trapezoid(y, x) -> np.ndarray:
    """Trapezoidal integral of ``y`` over ``x`` along the last axis (``np.trapz`` formula).

    Args:
        y: ``(..., T)`` values.
        x: ``(T,)`` sample positions.

    Returns:
        ``(...)`` integrals.
    """
    y = to_float64(y, 'y')
    x = to_float64(x, 'x')
    return np.add.reduce(np.diff(x) * (y[..., 1:] + y[..., :-1]) / 2.0, axis=-1)


def pck_curves(distances, thresholds) -> np.ndarray:
    """Fraction of samples with ``distance <= threshold``, per point index and threshold.

    Args:
        distances: ``(N, K)`` distances.
        thresholds: ``(T,)`` thresholds, same unit.

    Returns:
        ``(K, T)`` PCK values in [0, 1].
    """
    distances = to_float64(distances, 'distances')
    if distances.ndim != 2 or distances.shape[0] == 0:
        raise ValueError(f'distances: expected shape (N>0, K), got {tuple(distances.shape)}')
    thresholds = to_float64(thresholds, 'thresholds')
    ordered = np.sort(distances, axis=0)
    counts = np.stack([np.searchsorted(column, thresholds, side='right')
                       for column in ordered.T])
    return counts / distances.shape[0]


class PointErrorMeasures(NamedTuple):
    """Output of :func:`point_error_measures` (the official ``EvalUtil.get_measures``).

    Attributes:
        mean: Mean distance (mean over point indices of the per-index mean over samples).
        auc: Mean over point indices of the normalised area under the PCK curve, in [0, 1].
        pck: ``(T,)`` PCK curve averaged over point indices.
        thresholds: ``(T,)`` thresholds.
    """
    mean: float
    auc: float
    pck: np.ndarray
    thresholds: np.ndarray


def point_error_measures(distances, val_min: float = 0.0, val_max: float = 0.05,
                         steps: int = 100) -> PointErrorMeasures:
    """Mean error, PCK curve and AUC over ``linspace(val_min, val_max, steps)``.

    Defaults are the HO3D scorer's (0 to 5 cm in metres, 100 steps); the dex-ycb-toolkit uses
    0 to 50 with distances in mm.

    Args:
        distances: ``(N, K)`` distances (e.g. from :func:`point_distances`).
        val_min: First threshold.
        val_max: Last threshold.
        steps: Number of thresholds.

    Returns:
        :class:`PointErrorMeasures`.
    """
    distances = to_float64(distances, 'distances')
    thresholds = np.linspace(val_min, val_max, steps)
    curves = pck_curves(distances, thresholds)
    norm = trapezoid(np.ones_like(thresholds), thresholds)
    auc = trapezoid(curves, thresholds) / norm
    return PointErrorMeasures(
        mean=float(np.mean(distances.mean(axis=0))),
        auc=float(np.mean(auc)),
        pck=curves.mean(axis=0),
        thresholds=thresholds)


class Keypoint2DMeasures(NamedTuple):
    """Output of :func:`keypoint_2d_measures`.

    Attributes:
        epe: Mean end-point error over all samples and points, pixels.
        pck: ``{threshold: fraction of points with error <= threshold}``.
        auc: Normalised area under the PCK curve over ``linspace(0, auc_max, steps)``, in
            [0, 1].
    """
    epe: float
    pck: Dict[float, float]
    auc: float


def keypoint_2d_measures(pred, gt, pck_thresholds: Sequence[float] = KEYPOINT_2D_PCK_THRESHOLDS_PX,
                         auc_max: float = KEYPOINT_2D_AUC_MAX_PX,
                         steps: int = 100) -> Keypoint2DMeasures:
    """2D joint error (EPE), PCK at ``pck_thresholds`` and AUC of 2D keypoints.

    Every sample has all its points, so the mean over point indices of the per-index means
    (the official scorers' order) equals the plain mean over all ``N x K`` distances.

    Args:
        pred: ``(N, K, 2)`` predicted points, pixels.
        gt: ``(N, K, 2)`` ground truth, the same pixels.
        pck_thresholds: Thresholds of the reported PCK values, pixels.
        auc_max: Last threshold of the AUC curve (the first is 0), pixels.
        steps: Thresholds of the AUC curve.

    Returns:
        :class:`Keypoint2DMeasures`.
    """
    pred = check_points(pred, 'pred', dim=2)
    gt = check_points(gt, 'gt', dim=2)
    check_same_shape(pred, gt)
    distances = np.sqrt(np.sum(np.square(pred - gt), axis=-1))
    thresholds = [float(t) for t in pck_thresholds]
    pck = pck_curves(distances, thresholds).mean(axis=0)
    measures = point_error_measures(distances, 0.0, auc_max, steps)
    return Keypoint2DMeasures(epe=measures.mean, pck=dict(zip(thresholds, pck.tolist())),
                              auc=measures.auc)
