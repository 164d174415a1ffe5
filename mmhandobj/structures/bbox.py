"""Axis-aligned boxes ``x1y1x2y2`` in pixels, continuous extents (a box ``[0, 0, 10, 10]``
covers 100 pixel areas)."""
import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Areas of x1y1x2y2 boxes.

    Args:
        boxes: ``(..., 4)`` boxes, pixels.

    Returns:
        ``(...)`` areas, pixels squared; 0 for empty (inverted) boxes.
    """
    return np.prod(np.clip(boxes[..., 2:] - boxes[..., :2], 0, None), axis=-1)


def box_iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Intersection over union of one box with several.

    Args:
        box: ``(4,)`` x1y1x2y2 box, pixels.
        boxes: ``(N, 4)`` (or anything reshapeable to it) x1y1x2y2 boxes, pixels.

    Returns:
        ``(N,)`` float64 IoUs in [0, 1]; 0 where the union is empty.
    """
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    box = np.asarray(box, np.float64)
    lo = np.maximum(box[:2], boxes[:, :2])
    hi = np.minimum(box[2:], boxes[:, 2:])
    inter = np.prod(np.clip(hi - lo, 0, None), axis=1)
    union = box_area(box) + box_area(boxes) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)
