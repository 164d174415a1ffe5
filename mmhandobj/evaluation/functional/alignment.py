"""Batched alignment of predicted point sets (joints or vertices) to ground truth.

All functions take ``(N, K, 3)`` numpy arrays or torch tensors (any float dtype), compute in
float64 numpy and return float64 numpy arrays. Units are whatever the inputs use.

Two similarity-alignment conventions coexist in this field and give different numbers on
mirrored predictions:

* :func:`align_procrustes` replicates ``align_w_scale`` of the HO3D, FreiHAND and
  dex-ycb-toolkit scorers (Frobenius normalisation + ``scipy.linalg.orthogonal_procrustes``);
  **reflections are allowed**.
* :func:`align_umeyama` replicates ``rigid_align`` of HFL-Net / HandOccNet (Umeyama with the
  determinant fix); **reflections are forbidden**.
"""
from typing import NamedTuple, Tuple

import numpy as np

from .array_utils import check_points, check_same_shape

#: Alignment modes understood by :func:`align_points`.
ALIGNMENTS = ('none', 'root', 'procrustes', 'umeyama', 'scale_translation')


class ProcrustesTransform(NamedTuple):
    """Per-sample transform found by :func:`align_procrustes` (the official ``trafo`` tuple).

    Attributes:
        rot: ``(N, 3, 3)`` orthogonal matrix R (may be a reflection); points map as ``x @ R.T``.
        scale: ``(N,)`` sum of singular values of the normalised cross-covariance.
        gt_norm: ``(N,)`` Frobenius norm of the centred GT plus 1e-8.
        offset: ``(N, 3)`` GT centroid minus prediction centroid.
    """
    rot: np.ndarray
    scale: np.ndarray
    gt_norm: np.ndarray
    offset: np.ndarray


def _procrustes(pred: np.ndarray, gt: np.ndarray) -> Tuple[np.ndarray, ProcrustesTransform]:
    """Shared core of :func:`align_procrustes` and :func:`procrustes_transform`."""
    gt_mean = gt.mean(axis=1, keepdims=True)
    pred_mean = pred.mean(axis=1, keepdims=True)
    gt_c = gt - gt_mean
    pred_c = pred - pred_mean
    gt_norm = np.sqrt((gt_c ** 2).sum(axis=(1, 2))) + 1e-8
    pred_norm = np.sqrt((pred_c ** 2).sum(axis=(1, 2))) + 1e-8
    gt_c /= gt_norm[:, None, None]
    pred_c /= pred_norm[:, None, None]
    # orthogonal_procrustes(A=gt, B=pred): SVD of A^T B = U W V^T, R = U V^T, scale = sum(W).
    u, w, vt = np.linalg.svd(np.einsum('nki,nkj->nij', gt_c, pred_c))
    rot = u @ vt
    scale = w.sum(axis=-1)
    aligned = (pred_c @ rot.transpose(0, 2, 1)) * scale[:, None, None]
    aligned = aligned * gt_norm[:, None, None] + gt_mean
    transform = ProcrustesTransform(rot, scale, gt_norm, (gt_mean - pred_mean)[:, 0])
    return aligned, transform


def align_procrustes(pred, gt) -> np.ndarray:
    """Similarity-align ``pred`` to ``gt`` as the HO3D / FreiHAND / DexYCB scorers do.

    Per sample: centre both sets, divide each by its Frobenius norm (+1e-8), solve the
    orthogonal Procrustes problem (rotation **or reflection** R, scale s = sum of singular
    values), apply ``pred_n @ R.T * s`` and undo the GT normalisation.

    Args:
        pred: ``(N, K, 3)`` predicted points.
        gt: ``(N, K, 3)`` ground-truth points, same units.

    Returns:
        ``(N, K, 3)`` aligned prediction.
    """
    pred = check_points(pred, 'pred')
    gt = check_points(gt, 'gt')
    check_same_shape(pred, gt)
    return _procrustes(pred, gt)[0]


def procrustes_transform(pred, gt) -> ProcrustesTransform:
    """Return the transform of :func:`align_procrustes` (the official ``return_trafo=True``)."""
    pred = check_points(pred, 'pred')
    gt = check_points(gt, 'gt')
    check_same_shape(pred, gt)
    return _procrustes(pred, gt)[1]


def apply_procrustes_transform(points, transform: ProcrustesTransform) -> np.ndarray:
    """Apply a joint-derived transform to other points, as the HO3D scorer's ``align_by_trafo``.

    The HO3D scorer uses this for vertices when a submission does not have 778 of them. It
    replicates the official formula exactly, ``(x - mean(x)) @ R.T * s * gt_norm + offset +
    mean(x)``, which (unlike :func:`align_procrustes`) does not divide by the prediction's norm.

    Args:
        points: ``(N, P, 3)`` points to move.
        transform: Transform from :func:`procrustes_transform` (N samples).

    Returns:
        ``(N, P, 3)`` transformed points.
    """
    points = check_points(points, 'points')
    mean = points.mean(axis=1, keepdims=True)
    moved = (points - mean) @ transform.rot.transpose(0, 2, 1)
    moved = moved * transform.scale[:, None, None] * transform.gt_norm[:, None, None]
    return moved + transform.offset[:, None, :] + mean


def align_umeyama(pred, gt) -> np.ndarray:
    """Similarity-align ``pred`` to ``gt`` with Umeyama's method, reflections forbidden.

    Replicates HFL-Net / HandOccNet ``rigid_align``: ``H = (A - mean A)^T (B - mean B) / K``,
    ``H = U S V^T``, ``R = V U^T``; when ``det(R) < 0`` the last row of ``V^T`` and the sign of
    ``S[-1]`` are flipped; ``c = sum(S) / sum(var(A))`` and ``t = mean B - c R mean A``.

    Args:
        pred: ``(N, K, 3)`` predicted points (A).
        gt: ``(N, K, 3)`` ground-truth points (B).

    Returns:
        ``(N, K, 3)`` aligned prediction ``c R A + t``.
    """
    pred = check_points(pred, 'pred')
    gt = check_points(gt, 'gt')
    check_same_shape(pred, gt)
    mean_a = pred.mean(axis=1)
    mean_b = gt.mean(axis=1)
    cov = np.einsum('nki,nkj->nij', pred - mean_a[:, None], gt - mean_b[:, None])
    cov /= pred.shape[1]
    u, s, vt = np.linalg.svd(cov)
    rot = vt.transpose(0, 2, 1) @ u.transpose(0, 2, 1)
    reflected = np.linalg.det(rot) < 0
    s[reflected, -1] *= -1
    vt[reflected, 2] *= -1
    rot[reflected] = vt[reflected].transpose(0, 2, 1) @ u[reflected].transpose(0, 2, 1)
    scale = s.sum(axis=-1) / pred.var(axis=1).sum(axis=-1)
    trans = mean_b - scale[:, None] * np.einsum('nij,nj->ni', rot, mean_a)
    return scale[:, None, None] * (pred @ rot.transpose(0, 2, 1)) + trans[:, None]


def align_scale_translation(pred, gt, bone: Tuple[int, int] = (0, 4)) -> np.ndarray:
    """Scale and translate ``pred`` onto ``gt`` as the HO3D scorer's ``align_sc_tr``.

    The prediction is divided by its length of ``bone`` (when that length is > 0), multiplied
    by the GT length of ``bone``, then shifted so that joint ``bone[0]`` lands on the GT one.
    With the default ``(0, 4)`` on HO3D ('mano') order this is wrist to middle MCP.

    Args:
        pred: ``(N, K, 3)`` predicted joints.
        gt: ``(N, K, 3)`` ground-truth joints.
        bone: Joint indices ``(start, end)`` of the reference bone; ``start`` is also the
            translation anchor.

    Returns:
        ``(N, K, 3)`` aligned prediction.
    """
    pred = check_points(pred, 'pred')
    gt = check_points(gt, 'gt')
    check_same_shape(pred, gt)
    start, end = bone
    length = np.sqrt(np.sum(np.square(pred[:, end] - pred[:, start]), axis=-1))
    divisor = np.where(length > 0, length, 1.0)
    scaled = np.where((length > 0)[:, None, None], pred / divisor[:, None, None], pred)
    gt_length = np.sqrt(np.sum(np.square(gt[:, end] - gt[:, start]), axis=-1))
    scaled = scaled * gt_length[:, None, None]
    return scaled - scaled[:, start:start + 1] + gt[:, start:start + 1]


def align_points(pred, gt, alignment: str = 'none',
                 root_index: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    """Align a batch of predictions and return the pair to compare.

    Args:
        pred: ``(N, K, 3)`` predicted points.
        gt: ``(N, K, 3)`` ground-truth points.
        alignment: One of :data:`ALIGNMENTS`: ``'none'``; ``'root'`` (both sets made relative
            to their point ``root_index``, as the dex-ycb-toolkit root-relative error);
            ``'procrustes'`` (:func:`align_procrustes`, reflection allowed); ``'umeyama'``
            (:func:`align_umeyama`, reflection forbidden); ``'scale_translation'``
            (:func:`align_scale_translation` with bone ``(root_index, 4)``).
        root_index: Root point for ``'root'`` and ``'scale_translation'``.

    Returns:
        ``(pred, gt)`` float64 ``(N, K, 3)`` arrays after alignment.
    """
    if alignment not in ALIGNMENTS:
        raise ValueError(f'alignment must be one of {ALIGNMENTS}, got {alignment!r}')
    pred = check_points(pred, 'pred')
    gt = check_points(gt, 'gt')
    check_same_shape(pred, gt)
    if alignment == 'root':
        return (pred - pred[:, root_index:root_index + 1],
                gt - gt[:, root_index:root_index + 1])
    if alignment == 'procrustes':
        return align_procrustes(pred, gt), gt
    if alignment == 'umeyama':
        return align_umeyama(pred, gt), gt
    if alignment == 'scale_translation':
        return align_scale_translation(pred, gt, bone=(root_index, 4)), gt
    return pred, gt
