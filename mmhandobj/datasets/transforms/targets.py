"""RoI boxes and the 32x32 object mask target."""
import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmhandobj.registry import TRANSFORMS

from .geometry import bbox_from_points


def crop_mask(mask: np.ndarray, box: np.ndarray, size: int) -> np.ndarray:
    """Crop a mask to a box and resize it (reference: PIL crop with rounded box, NEAREST).

    Args:
        mask: ``(h, w)`` uint8 mask.
        box: ``(4,)`` x1y1x2y2 in mask pixels; rounded half-to-even like PIL; outside = 0.
        size: Output side.

    Returns:
        ``(size, size)`` float32 mask, 1 where the resized mask is nonzero.
    """
    x1, y1, x2, y2 = (int(v) for v in np.rint(np.asarray(box, np.float64)))
    if x2 <= x1 or y2 <= y1:
        return np.zeros((size, size), np.float32)
    height, width = mask.shape
    patch = np.zeros((y2 - y1, x2 - x1), np.uint8)
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, width), min(y2, height)
    if sx2 > sx1 and sy2 > sy1:
        patch[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = mask[sy1:sy2, sx1:sx2]
    resized = cv2.resize(patch, (size, size), interpolation=cv2.INTER_NEAREST_EXACT)
    return (resized != 0).astype(np.float32)


@TRANSFORMS.register_module()
class GenerateHandObjectTargets(BaseTransform):
    """Hand/object RoI boxes in the crop and the object mask target.

    hand box = bbox(crop joints, ``hand_expand``) (or of the two ``hand_points_crop`` corners
    when no joints are known); object box = bbox(crop object keypoints, ``obj_expand``) (or of
    the two ``obj_points_crop`` corners);
    object mask = the crop mask cut to the object box, resized to ``mask_size`` (nearest),
    nonzero. A frame without hand points gets the object box as its hand box and vice versa;
    with neither, the whole crop.

    Required keys: ``img_shape`` and any of ``joints2d``, ``hand_points_crop``, ``obj_kps2d``,
    ``obj_points_crop``.
    Optional keys: ``obj_mask_crop`` (removed). Added keys: ``hand_bbox``, ``obj_bbox``
    ((4,) float32 crop pixels), ``obj_mask`` ((S, S) float32, when a mask was loaded).

    Args:
        hand_expand: Hand box expansion (reference 1.1).
        obj_expand: Object box expansion (reference 1.0, tight).
        mask_size: Side of the object mask target.
    """

    def __init__(self, hand_expand: float = 1.1, obj_expand: float = 1.0,
                 mask_size: int = 32) -> None:
        self.hand_expand = hand_expand
        self.obj_expand = obj_expand
        self.mask_size = mask_size

    def transform(self, results: dict) -> dict:
        hand_pts = results.get('joints2d', results.get('hand_points_crop'))
        hand = None if hand_pts is None else bbox_from_points(hand_pts, self.hand_expand)
        obj_pts = results.get('obj_kps2d', results.get('obj_points_crop'))
        obj = None if obj_pts is None else bbox_from_points(obj_pts, self.obj_expand)
        height, width = results['img_shape']
        whole = np.array([0, 0, width, height], np.float32)
        hand = hand if hand is not None else (obj if obj is not None else whole)
        obj = obj if obj is not None else hand
        results['hand_bbox'] = hand
        results['obj_bbox'] = obj
        if 'obj_mask_crop' in results:
            results['obj_mask'] = crop_mask(results.pop('obj_mask_crop'), obj, self.mask_size)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(hand_expand={self.hand_expand}, '
                f'obj_expand={self.obj_expand}, mask_size={self.mask_size})')
