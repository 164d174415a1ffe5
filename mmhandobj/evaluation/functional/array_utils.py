"""Input checking shared by the functional metrics and the metric classes."""
from typing import Any, Optional, Sequence

import numpy as np
from mmengine.logging import MMLogger

from mmhandobj.structures.sample_fields import to_float64

#: What to do with samples whose prediction is not finite (NaN or inf).
NAN_POLICIES = ('exclude', 'raise')


def check_points(value: Any, name: str, num_points: Optional[int] = None,
                 dim: int = 3) -> np.ndarray:
    """Convert to float64 and check the ``(N, K, dim)`` shape of a batch of point sets.

    Args:
        value: Array-like of shape ``(N, K, dim)``.
        name: Name used in error messages.
        num_points: Required ``K``; any when None.
        dim: Required size of the last axis.

    Returns:
        ``(N, K, dim)`` float64 array.
    """
    array = to_float64(value, name)
    if array.ndim != 3 or array.shape[-1] != dim or (
            num_points is not None and array.shape[1] != num_points):
        wanted = f'(N, {num_points if num_points is not None else "K"}, {dim})'
        raise ValueError(f'{name}: expected shape {wanted}, got {tuple(array.shape)}')
    return array


def check_same_shape(pred: np.ndarray, gt: np.ndarray, pred_name: str = 'pred',
                     gt_name: str = 'gt') -> None:
    """Raise a ValueError naming both arrays when their shapes differ."""
    if pred.shape != gt.shape:
        raise ValueError(f'{pred_name} has shape {tuple(pred.shape)} but {gt_name} has shape '
                         f'{tuple(gt.shape)}; they must match')


def finite_sample_mask(arrays: Sequence[np.ndarray], sample_ids: Sequence[Any],
                       policy: str, what: str) -> np.ndarray:
    """Find samples whose predictions hold NaN/inf, then report and exclude them or raise.

    Args:
        arrays: Arrays whose first axis is the sample axis (N, ...), e.g. predicted joints and
            vertices.
        sample_ids: N identifiers used in the report (usually metainfo ``sample_idx``).
        policy: ``'exclude'`` (log a warning with the count and the ids via ``MMLogger``,
            return a mask that drops them) or ``'raise'`` (raise ValueError).
        what: Description of the arrays for the message (e.g. ``'HO3DMetric predictions'``).

    Returns:
        ``(N,)`` bool mask, True for samples whose arrays are all finite.
    """
    if policy not in NAN_POLICIES:
        raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {policy!r}')
    num = len(sample_ids)
    mask = np.ones(num, dtype=bool)
    for array in arrays:
        mask &= np.isfinite(np.asarray(array).reshape(num, -1)).all(axis=1)
    if mask.all():
        return mask
    bad = [sample_ids[i] for i in np.flatnonzero(~mask)]
    message = (f'{what}: {len(bad)} of {num} samples have non-finite (NaN/inf) values, '
               f'sample ids {bad}')
    if policy == 'raise':
        raise ValueError(message)
    MMLogger.get_current_instance().warning(message + '; they are excluded from the scores')
    return mask
