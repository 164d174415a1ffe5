"""RoIAlign of the hand box, the object box and their intersection on the two P2 maps."""
from typing import Dict, Tuple

import torch
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.ops import roi_align

from mmhandobj.registry import MODELS


def validate_boxes(boxes: Tensor, name: str) -> None:
    """Raise ``ValueError`` unless ``boxes`` is (B, 4) x1y1x2y2, finite, with x2>=x1, y2>=y1.

    One vectorised check (one host-device sync); call it outside the hot path (it is used by
    ``HFLNet.loss``/``predict``, not by ``forward_raw``).

    Args:
        boxes (Tensor): (B, 4) boxes, pixels.
        name (str): Field name used in the error message.
    """
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f'{name}: expected boxes of shape (B, 4) x1y1x2y2, '
                         f'got {tuple(boxes.shape)}')
    finite = torch.isfinite(boxes).all(dim=1)
    ordered = (boxes[:, 2] >= boxes[:, 0]) & (boxes[:, 3] >= boxes[:, 1])
    bad = ~(finite & ordered)
    if bool(bad.any()):
        idx = torch.nonzero(bad).flatten().tolist()
        raise ValueError(f'{name}: degenerate boxes (non-finite or x2<x1 / y2<y1) at batch '
                         f'indices {idx}: {boxes[bad].tolist()}')


def intersection_boxes(boxes_a: Tensor, boxes_b: Tensor) -> Tuple[Tensor, Tensor]:
    """Intersection of two box sets and whether it is non-empty.

    Args:
        boxes_a (Tensor): (B, 4) x1y1x2y2.
        boxes_b (Tensor): (B, 4) x1y1x2y2.

    Returns:
        tuple: ``(inter, overlap)``; ``inter`` (B, 4) is [max x1, max y1, min x2, min y2]
        (inverted when empty), ``overlap`` (B,) bool is True when both extents are > 0.
    """
    top_left = torch.maximum(boxes_a[:, :2], boxes_b[:, :2])
    bottom_right = torch.minimum(boxes_a[:, 2:], boxes_b[:, 2:])
    overlap = ((bottom_right - top_left) > 0).all(dim=1)
    return torch.cat([top_left, bottom_right], dim=1), overlap


@MODELS.register_module()
class HandObjectRoIExtractor(BaseModule):
    """The four RoI crops of HFL-Net (``torchvision.ops.roi_align``).

    ============  ==========  ==================  ====================================
    key           map         box                 use
    ============  ==========  ==================  ====================================
    hand          P2_hand     hand box            hand query
    obj_in_hand   P2_obj      hand box            object context of the hand
    obj           P2_obj      object box          object query
    inter         P2_hand     hand ∩ object box   hand context of the object (0 if empty)
    ============  ==========  ==================  ====================================

    Args:
        output_size (int): Side of each crop. Default 32.
        spatial_scale (float): Feature stride inverse (P2 is stride 4). Default 0.25.
        sampling_ratio (int): RoIAlign sampling ratio; -1 = adaptive. Default -1.
        aligned (bool): Half-pixel offset of RoIAlign. Default False (reference).
    """

    def __init__(self, output_size: int = 32, spatial_scale: float = 0.25,
                 sampling_ratio: int = -1, aligned: bool = False, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def _align(self, feat: Tensor, boxes: Tensor) -> Tensor:
        """RoIAlign of ``boxes`` (K, 4) where box k belongs to image ``k % B``."""
        batch_idx = torch.arange(boxes.shape[0], device=boxes.device,
                                 dtype=boxes.dtype) % feat.shape[0]
        rois = torch.cat([batch_idx[:, None], boxes], dim=1).to(feat.dtype)
        return roi_align(feat, rois, (self.output_size, self.output_size),
                         spatial_scale=self.spatial_scale,
                         sampling_ratio=self.sampling_ratio, aligned=self.aligned)

    def forward(self, p2_hand: Tensor, p2_obj: Tensor, hand_boxes: Tensor,
                obj_boxes: Tensor) -> Dict[str, Tensor]:
        """Extract the four crops.

        Args:
            p2_hand (Tensor): Hand-stream P2 (B, C, H/4, W/4).
            p2_obj (Tensor): Object-stream P2 (B, C, H/4, W/4).
            hand_boxes (Tensor): (B, 4) x1y1x2y2 in input pixels.
            obj_boxes (Tensor): (B, 4) x1y1x2y2 in input pixels.

        Returns:
            dict: ``hand``, ``obj_in_hand``, ``obj``, ``inter``, each (B, C, S, S), plus
            ``overlap`` (B,) bool (hand and object boxes intersect).
        """
        num = hand_boxes.shape[0]
        inter, overlap = intersection_boxes(hand_boxes, obj_boxes)
        hand, inter_feat = self._align(p2_hand, torch.cat([hand_boxes, inter])).split(num)
        obj_in_hand, obj = self._align(p2_obj, torch.cat([hand_boxes, obj_boxes])).split(num)
        inter_feat = inter_feat * overlap[:, None, None, None].to(inter_feat.dtype)
        return dict(hand=hand, obj_in_hand=obj_in_hand, obj=obj, inter=inter_feat,
                    overlap=overlap)
