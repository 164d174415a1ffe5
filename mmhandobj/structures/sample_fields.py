"""Reading fields out of data samples: numeric arrays, and the dicts MMEngine's Evaluator
hands to metrics.

The Evaluator calls ``HandObjectDataSample.to_dict()``: metainfo keys sit at the top level and
``gt_instances`` / ``pred_instances`` are nested dicts whose values have a leading instance
axis of length 1 (torch tensors or numpy arrays).
"""
from typing import Any, Optional, Sequence, Tuple

import numpy as np


def to_float64(value: Any, name: str) -> np.ndarray:
    """Return ``value`` (numpy array, torch tensor or nested list) as a float64 numpy array.

    Args:
        value: Array-like input; torch tensors are detached and moved to the CPU.
        name: Name used in error messages (e.g. ``'pred_instances.hand_joints3d'``).

    Returns:
        A float64 ``np.ndarray`` (a copy when a conversion was needed).
    """
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f'{name}: expected a numeric array, got {type(value).__name__} '
                        f'({err})') from err


def sample_name(data_sample: dict) -> str:
    """Short description of a sample for error messages."""
    return f"sample_idx={data_sample.get('sample_idx', '?')} ({data_sample.get('img_path', '')})"


def get_meta(data_sample: dict, key: str, default: Any = None, required: bool = True) -> Any:
    """Read a metainfo value, raising a KeyError naming the sample when it is required."""
    if key in data_sample:
        return data_sample[key]
    if required:
        raise KeyError(f'{sample_name(data_sample)}: metainfo {key!r} is missing')
    return default


def get_instance(data_sample: dict, group: str, key: str, shape: Sequence[int],
                 required: bool = True) -> Optional[np.ndarray]:
    """Read ``data_sample[group][key]``, drop the instance axis and check the shape.

    Args:
        data_sample: Dict from ``HandObjectDataSample.to_dict()``.
        group: ``'gt_instances'`` or ``'pred_instances'``.
        key: Field name (e.g. ``'hand_joints3d'``).
        shape: Expected per-instance shape (e.g. ``(21, 3)``).
        required: Raise KeyError when missing; otherwise return None.

    Returns:
        ``np.ndarray`` of ``shape`` (dtype kept), or None when missing and not required.
    """
    fields = data_sample.get(group)
    if fields is None or key not in fields:
        if required:
            raise KeyError(f'{sample_name(data_sample)}: {group}.{key} is missing')
        return None
    value = fields[key]
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    value = np.asarray(value)
    wanted: Tuple[int, ...] = (1, *shape)
    if value.shape == tuple(shape):
        return value
    if value.shape != wanted:
        raise ValueError(f'{sample_name(data_sample)}: {group}.{key} has shape '
                         f'{tuple(value.shape)}, expected {wanted}')
    return value[0]
