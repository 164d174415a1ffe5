"""RoIAlign of the hand box, the object box and their intersection on the two P2 maps."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor
from torchvision.ops import roi_align

from mmhandobj.models.necks.dual_fpn import P2Window, Window
from mmhandobj.models.roi_extractors.separable_roi_align import (
    roi_align_axis_weights,
    separable_roi_align,
    support,
)
from mmhandobj.registry import MODELS

P2Map = Union[Tensor, List[P2Window]]


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
        cpu_windows (bool): On CPU, have the neck compute P2 only in the window each map's
            boxes read (:meth:`windows`) and align with two matrix products
            (:mod:`.separable_roi_align`); same crops to float rounding, a quarter less
            time for an R50 training step. On CUDA (and with False) the full maps and
            torchvision's kernel are used: per-image windows would serialise the GPU and
            need the boxes on the host. Default True.

    The map a crop is taken from decides which cells of P2 are ever read: on the hand map the
    hand box and, when the boxes overlap, their intersection; on the object map the hand box
    and the object box. Without overlap the intersection crop is zero (it reads nothing).
    """

    def __init__(self, output_size: int = 32, spatial_scale: float = 0.25,
                 sampling_ratio: int = -1, aligned: bool = False, cpu_windows: bool = True,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned
        self.cpu_windows = cpu_windows

    def uses_windows(self, device: torch.device) -> bool:
        """Whether P2 should be computed in windows for maps on ``device``."""
        return self.cpu_windows and device.type == 'cpu'

    def _axis_weights(self, boxes: Tensor, size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """Row and column weights (..., S, H2) and (..., S, W2) of boxes (..., 4), pixels."""
        flat = boxes.reshape(-1, 4)
        args = (self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)
        weights_y = roi_align_axis_weights(flat[:, 1], flat[:, 3], size[0], *args)
        weights_x = roi_align_axis_weights(flat[:, 0], flat[:, 2], size[1], *args)
        lead = boxes.shape[:-1]
        return (weights_y.reshape(*lead, *weights_y.shape[1:]),
                weights_x.reshape(*lead, *weights_x.shape[1:]))

    def _map_weights(self, hand_boxes: Tensor, obj_boxes: Tensor, size: Tuple[int, int]
                     ) -> Tuple[Tuple[Tensor, Tensor], Tuple[Tensor, Tensor], Tensor]:
        """Weights of the two boxes each map is read with, (B, 2, S, H2) and (B, 2, S, W2):
        hand map [hand, intersection (zero without overlap)], object map [hand, object];
        and the overlap (B,) bool."""
        inter, overlap = intersection_boxes(hand_boxes, obj_boxes)
        hand_y, hand_x = self._axis_weights(torch.stack([hand_boxes, inter], 1), size)
        keep = torch.stack([torch.ones_like(overlap), overlap], 1).to(hand_y.dtype)
        hand_y = hand_y * keep[:, :, None, None]
        obj_y, obj_x = self._axis_weights(torch.stack([hand_boxes, obj_boxes], 1), size)
        return (hand_y, hand_x), (obj_y, obj_x), overlap

    def windows(self, hand_boxes: Tensor, obj_boxes: Tensor, size: Tuple[int, int]
                ) -> Tuple[List[Window], List[Window]]:
        """Per image, the window of each P2 map (size ``size`` = (H2, W2)) its crops read.

        Returns:
            tuple: ``(hand map windows, object map windows)``, B each, ``(row_start, row_end,
            col_start, col_end)`` in map cells (at least one cell, even for boxes that read
            nothing).
        """
        out = []
        for weights_y, weights_x in self._map_weights(hand_boxes, obj_boxes, size)[:2]:
            per_image = []
            for b in range(weights_y.shape[0]):
                window = (*support(weights_y[b]), *support(weights_x[b]))
                empty = window[0] == window[1] or window[2] == window[3]
                per_image.append((0, 1, 0, 1) if empty else window)
            out.append(per_image)
        return out[0], out[1]

    @staticmethod
    def _align_windows(maps: Sequence[P2Window], weights_y: Tensor,
                       weights_x: Tensor) -> Tuple[Tensor, Tensor]:
        """The two crops (B, C, S, S) of each image's window ``maps[b]``."""
        crops = []
        for b, (feat, row, col) in enumerate(maps):
            rows, cols = feat.shape[-2:]
            wy, wx = weights_y[b], weights_x[b]
            if (wy[..., :row].any() or wy[..., row + rows:].any() or
                    wx[..., :col].any() or wx[..., col + cols:].any()):
                raise ValueError(f'HandObjectRoIExtractor: the P2 window of image {b} (rows '
                                 f'{row}+{rows}, columns {col}+{cols}) does not hold its '
                                 'boxes; build the windows with HandObjectRoIExtractor.windows')
            crops.append(separable_roi_align(feat, wy[..., row:row + rows],
                                             wx[..., col:col + cols]))
        first, second = torch.stack(crops).unbind(1)
        return first, second

    def _align(self, feat: Tensor, boxes: Tensor) -> Tensor:
        """RoIAlign of ``boxes`` (K, 4) where box k belongs to image ``k % B``."""
        batch_idx = torch.arange(boxes.shape[0], device=boxes.device,
                                 dtype=boxes.dtype) % feat.shape[0]
        rois = torch.cat([batch_idx[:, None], boxes], dim=1).to(feat.dtype)
        return roi_align(feat, rois, (self.output_size, self.output_size),
                         spatial_scale=self.spatial_scale,
                         sampling_ratio=self.sampling_ratio, aligned=self.aligned)

    def forward(self, p2_hand: P2Map, p2_obj: P2Map, hand_boxes: Tensor,
                obj_boxes: Tensor, map_size: Optional[Tuple[int, int]] = None) -> Dict[str, Tensor]:
        """Extract the four crops.

        Args:
            p2_hand (Tensor | list): Hand-stream P2 (B, C, H/4, W/4), or its windows (B
                :class:`P2Window`, the neck's output for :meth:`windows`).
            p2_obj (Tensor | list): Object-stream P2, idem.
            hand_boxes (Tensor): (B, 4) x1y1x2y2 in input pixels.
            obj_boxes (Tensor): (B, 4) x1y1x2y2 in input pixels.
            map_size (tuple, optional): (H/4, W/4), the full maps' size; needed with windows.

        Returns:
            dict: ``hand``, ``obj_in_hand``, ``obj``, ``inter``, each (B, C, S, S), plus
            ``overlap`` (B,) bool (hand and object boxes intersect).
        """
        if isinstance(p2_hand, (list, tuple)):
            if map_size is None:
                raise ValueError('HandObjectRoIExtractor: P2 windows need map_size (H2, W2)')
            hand_w, obj_w, overlap = self._map_weights(hand_boxes, obj_boxes, map_size)
            hand, inter_feat = self._align_windows(p2_hand, *hand_w)
            obj_in_hand, obj = self._align_windows(p2_obj, *obj_w)
            return dict(hand=hand, obj_in_hand=obj_in_hand, obj=obj, inter=inter_feat,
                        overlap=overlap)
        inter, overlap = intersection_boxes(hand_boxes, obj_boxes)
        # (2B, C, S, S) -> 2 x (B, C, S, S) without a split size, so that the batch of an
        # ONNX export stays free
        hand, inter_feat = self._align(p2_hand, torch.cat([hand_boxes, inter])).unflatten(
            0, (2, -1)).unbind(0)
        obj_in_hand, obj = self._align(p2_obj, torch.cat([hand_boxes, obj_boxes])).unflatten(
            0, (2, -1)).unbind(0)
        inter_feat = inter_feat * overlap[:, None, None, None].to(inter_feat.dtype)
        return dict(hand=hand, obj_in_hand=obj_in_hand, obj=obj, inter=inter_feat,
                    overlap=overlap)
