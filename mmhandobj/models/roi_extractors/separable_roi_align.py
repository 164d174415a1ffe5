"""RoIAlign as two small matrix products, and the part of a feature map it reads.

``torchvision.ops.roi_align`` averages, for output cell (i, j) of a box, bilinear samples at
``grid_h x grid_w`` points of the cell. A sample's row y only depends on (i, iy) and its
column x only on (j, ix), and bilinear weights factor as w(y) * w(x); torchvision's rules at
the map border are per coordinate too (a sample with y < -1 or y > H, or x < -1 or x > W,
adds zero; y <= 0 is read at 0; a row at or past H - 1 is read at H - 1). So for one box

    out[c] = Wy @ F[c] @ Wx^T,   Wy[i, r] = (1 / grid_h) * sum_iy  w_r(y(i, iy)),

with Wy (S, H) and Wx (S, W) holding each output row's (column's) averaged bilinear weights
over the map's rows (columns). torchvision's CPU backward scatters every sample's gradient
into the map one value at a time on one thread (0.6 s of a 13 s HFL-Net R50 training step at
batch 8); here forward and backward are batched matrix products. Wy and Wx are zero outside
the rows and columns the box touches, which is how :class:`~mmhandobj.models.necks.DualFPN`
learns which part of P2 it must compute at all.

Semantics follow torchvision (``aligned``, adaptive ``sampling_ratio``: ceil(box side / S)
samples per cell and axis), computed in the same order in float32; outputs agree to float
rounding (``tests/test_models/test_roi_extractors/test_separable_roi_align.py``).
"""
from typing import Tuple

import torch
from torch import Tensor


def roi_align_axis_weights(starts: Tensor, ends: Tensor, size: int, output_size: int,
                           spatial_scale: float, sampling_ratio: int,
                           aligned: bool) -> Tensor:
    """Averaged bilinear weights of RoIAlign along one axis of the map.

    Args:
        starts (Tensor): (K,) box starts along the axis (x1 or y1), input pixels.
        ends (Tensor): (K,) box ends (x2 or y2), input pixels.
        size (int): Length of the map along the axis (W or H), map cells.
        output_size (int): S, output cells along the axis.
        spatial_scale (float): Map cells per input pixel.
        sampling_ratio (int): Samples per cell and axis; <= 0: ceil(box length / S).
        aligned (bool): Half-cell offset (torchvision ``aligned``).

    Returns:
        Tensor: (K, S, size), float64 for float64 boxes, else float32 (torchvision computes
        in the map's dtype); row i holds the weights of output cell i over the map's cells
        along this axis (zero where it reads nothing).
    """
    dtype = torch.float64 if starts.dtype == torch.float64 else torch.float32
    starts = starts.to(dtype)
    ends = ends.to(dtype)
    offset = 0.5 if aligned else 0.0
    roi_start = starts * spatial_scale - offset
    length = ends * spatial_scale - offset - roi_start
    if not aligned:
        length = length.clamp(min=1.0)
    bin_size = length / output_size
    if sampling_ratio > 0:
        grid = torch.full_like(length, float(sampling_ratio))
    else:
        grid = torch.ceil(length / output_size)
    max_grid = max(int(grid.max()) if grid.numel() else 1, 1)
    cell = torch.arange(output_size, dtype=dtype, device=starts.device)
    sample = torch.arange(max_grid, dtype=dtype, device=starts.device)
    start, bin_, grid_ = roi_start[:, None, None], bin_size[:, None, None], grid[:, None, None]
    grid_safe = grid_.clamp(min=1.0)  # a box with no samples (grid 0) reads nothing
    coord = start + cell[None, :, None] * bin_ + (sample[None, None, :] + 0.5) * bin_ / grid_safe
    used = (sample[None, None, :] < grid_) & (coord >= -1.0) & (coord <= size)
    coord = coord.clamp(min=0.0)
    low = coord.floor()
    at_edge = low >= size - 1
    low = torch.where(at_edge, torch.full_like(low, size - 1), low)
    coord = torch.where(at_edge, low, coord)
    high = torch.where(at_edge, low, low + 1)
    frac = coord - low
    scale = used.to(dtype) / grid_safe
    weights = torch.zeros(starts.shape[0], output_size, size, dtype=dtype, device=starts.device)
    weights.scatter_add_(2, low.long(), (1.0 - frac) * scale)
    weights.scatter_add_(2, high.long(), frac * scale)
    return weights


def support(weights: Tensor) -> Tuple[int, int]:
    """``[first, last + 1)`` of the map cells any row of ``weights`` (..., S, size) reads;
    ``(0, 0)`` when it reads none."""
    used = torch.nonzero(weights.reshape(-1, weights.shape[-1]).ne(0).any(dim=0)).flatten()
    if used.numel() == 0:
        return 0, 0
    return int(used[0]), int(used[-1]) + 1


def separable_roi_align(feat: Tensor, weights_y: Tensor, weights_x: Tensor) -> Tensor:
    """RoIAlign of K boxes on one image's (part of a) map: ``Wy @ F @ Wx^T``.

    Args:
        feat (Tensor): (C, h, w) map of one image (or a window of it).
        weights_y (Tensor): (K, S, h) row weights over the same rows as ``feat``.
        weights_x (Tensor): (K, S, w) column weights over the same columns.

    Returns:
        Tensor: (K, C, S, S).
    """
    # one contiguous copy of the map (a channels-last window would otherwise be copied by
    # every product), then per box (C*h, w) @ (w, S) and (S, h) @ (C, h, S)
    feat = feat.contiguous()
    weights_y = weights_y.to(feat.dtype)
    weights_x = weights_x.to(feat.dtype)
    return torch.stack([torch.matmul(wy, torch.matmul(feat, wx.t()))
                        for wy, wx in zip(weights_y, weights_x)])
