"""Detector training/test samples: hand and object boxes with class labels, flip, packing."""
from typing import List

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import BaseDataElement, InstanceData

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures.detection_classes import (
    HAND_CATEGORY_IDS,
    LEFT_HAND_ID,
    RIGHT_HAND_ID,
    object_category_id,
)

#: Boxes narrower or lower than this after clipping to the image are dropped (pixels).
MIN_BOX_SIDE = 1.0
_DET_META_KEYS = ('img_path', 'sample_idx', 'dataset_name', 'frame_key', 'sequence',
                  'ori_shape', 'img_shape', 'flip')


def points_box(points: np.ndarray) -> np.ndarray:
    """Tight x1y1x2y2 box of ``(N, 2)`` pixel points (float32)."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    return np.concatenate([points.min(0), points.max(0)]).astype(np.float32)


@TRANSFORMS.register_module()
class GenerateDetectionTargets(BaseTransform):
    """Hand and object boxes of a frame, in original-image pixels, with category ids.

    The boxes are those HFL-Net's ground-truth protocol is built from, so that detected boxes
    replace them one for one: the hand box is the tight box of the 21 annotated 2D joints
    (``joints2d``; HO3D's evaluation split, which has no joints, gives ``hand_box_hint``, its
    ``handBoundingBox``); the object box is the tight box of the 21 projected 3D box keypoints
    of the object model (``obj_kps2d``, i.e. the projected model's 3D bounding box, not the
    visible mask). Labels follow :mod:`mmhandobj.structures.detection_classes` (1 right hand,
    2 left hand, ``2 + YCB id`` objects). Boxes are clipped to the image; one thinner than
    :data:`MIN_BOX_SIDE` after clipping (out of view) is dropped.

    Required keys: ``ori_shape``, ``hand_side``, ``has_hand``, ``has_obj``; ``joints2d`` with
    hand GT (``has_hand``), else ``hand_box_hint`` when the frame has a hand box only;
    ``obj_kps2d`` and ``obj_name`` with an object.
    Added keys: ``gt_bboxes`` ((N, 4) float32 x1y1x2y2 pixels), ``gt_labels`` ((N,) int64).

    Raises:
        KeyError: For an object name outside the YCB table.
    """

    def transform(self, results: dict) -> dict:
        height, width = results['ori_shape']
        boxes: List[np.ndarray] = []
        labels: List[int] = []
        # HO3D's evaluation frames have a hand (and its box) but no joint GT: has_hand False.
        if results.get('has_hand', True) and 'joints2d' in results:
            boxes.append(points_box(results['joints2d']))
        elif 'hand_box_hint' in results:
            boxes.append(np.asarray(results['hand_box_hint'], np.float32))
        if len(boxes):
            labels.append(HAND_CATEGORY_IDS[results['hand_side']])
        if results.get('has_obj', False) and 'obj_kps2d' in results:
            try:
                labels.append(object_category_id(results['obj_name']))
            except KeyError as err:
                raise KeyError(f'{results.get("img_path")}: {err.args[0]}') from None
            boxes.append(points_box(results['obj_kps2d']))
        gt = np.asarray(boxes, np.float32).reshape(-1, 4)
        gt = np.clip(gt, 0, [width, height, width, height]).astype(np.float32)
        keep = ((gt[:, 2] - gt[:, 0]) >= MIN_BOX_SIDE) & ((gt[:, 3] - gt[:, 1]) >= MIN_BOX_SIDE)
        results['gt_bboxes'] = gt[keep]
        results['gt_labels'] = np.asarray(labels, np.int64)[keep]
        return results


@TRANSFORMS.register_module()
class DetectionRandomFlip(BaseTransform):
    """Mirror the image left-right with probability ``prob``; a right hand becomes a left hand.

    ``u' = W - u`` on box edges (boxes are continuous pixel extents), labels 1 <-> 2.

    Required keys: ``img``, ``gt_bboxes``, ``gt_labels``. Modified keys: those. Added keys:
    ``flip`` (bool).

    Args:
        prob: Probability of mirroring.
    """

    def __init__(self, prob: float = 0.5) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'prob must be in [0, 1], got {prob}')
        self.prob = prob

    def transform(self, results: dict) -> dict:
        flip = bool(np.random.rand() < self.prob)
        if flip:
            width = results['img'].shape[1]
            results['img'] = np.ascontiguousarray(results['img'][:, ::-1])
            boxes = np.array(results['gt_bboxes'], np.float32)
            boxes[:, [0, 2]] = width - boxes[:, [2, 0]]
            labels = np.array(results['gt_labels'], np.int64)
            hands = np.isin(labels, (RIGHT_HAND_ID, LEFT_HAND_ID))
            labels[hands] = RIGHT_HAND_ID + LEFT_HAND_ID - labels[hands]
            results.update(gt_bboxes=boxes, gt_labels=labels)
        results['flip'] = flip
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(prob={self.prob})'


@TRANSFORMS.register_module()
class PackDetectionInputs(BaseTransform):
    """Pack an image and its boxes for :class:`~mmhandobj.models.HandObjectDetector`.

    Required keys: ``img`` ((H, W, 3) uint8 BGR), ``gt_bboxes``, ``gt_labels``, ``img_path``,
    ``ori_shape``. Metainfo (when present): ``img_path``, ``sample_idx``, ``dataset_name``,
    ``frame_key`` (the dataset's frame name, e.g. ``'SM3/0000'``: how detection files name
    frames), ``sequence``, ``ori_shape``, ``img_shape``, ``flip``.

    Returns:
        ``dict(inputs=uint8 tensor (3, H, W) BGR, data_samples=BaseDataElement)`` whose
        ``gt_instances`` holds ``bboxes`` ((N, 4) float32 x1y1x2y2 pixels of ``inputs``) and
        ``labels`` ((N,) int64 category ids).
    """

    def transform(self, results: dict) -> dict:
        img = results['img']
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        results.setdefault('img_shape', img.shape[:2])
        results.setdefault('flip', False)
        meta = {key: results[key] for key in _DET_META_KEYS if key in results}
        gt = InstanceData()
        gt.bboxes = torch.from_numpy(np.asarray(results['gt_bboxes'], np.float32).reshape(-1, 4))
        gt.labels = torch.from_numpy(np.asarray(results['gt_labels'], np.int64).reshape(-1))
        sample = BaseDataElement(metainfo=meta)
        sample.gt_instances = gt
        return dict(inputs=inputs, data_samples=sample)
