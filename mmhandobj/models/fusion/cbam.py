"""CBAM: channel then spatial attention (Woo et al., ECCV 2018)."""
from typing import List, Tuple

import torch
from torch import Tensor, nn

from mmhandobj.registry import MODELS

# Channel-gate orders. Standard CBAM (Woo et al.) adds the two MLP outputs and applies one
# sigmoid: weights in (0, 1). The reproduction report's text applies a sigmoid to each MLP
# output and adds the two vectors: weights in (0, 2).
SUM_THEN_SIGMOID = 'sum_then_sigmoid'
SIGMOID_THEN_SUM = 'sigmoid_then_sum'
CHANNEL_GATE_ORDERS = (SUM_THEN_SIGMOID, SIGMOID_THEN_SUM)


class ChannelAttention(nn.Module):
    """Channel gate on GAP and GMP descriptors through one shared conv MLP.

    ``'sum_then_sigmoid'``: ``x * sigmoid(mlp(avgpool(x)) + mlp(maxpool(x)))`` (CBAM);
    ``'sigmoid_then_sum'``: ``x * (sigmoid(mlp(avgpool(x))) + sigmoid(mlp(maxpool(x))))``.

    Args:
        channels (int): Input channels C.
        reduction (int): Hidden width of the shared conv MLP is C // reduction.
        order (str): One of :data:`CHANNEL_GATE_ORDERS`. Default ``'sum_then_sigmoid'``.
    """

    def __init__(self, channels: int, reduction: int = 16,
                 order: str = SUM_THEN_SIGMOID) -> None:
        super().__init__()
        if order not in CHANNEL_GATE_ORDERS:
            raise ValueError(f'ChannelAttention: order must be one of {CHANNEL_GATE_ORDERS}, '
                             f'got {order!r}')
        self.order = order
        hidden = max(channels // reduction, 1)
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, hidden, 1, bias=False), nn.ReLU(inplace=True),
            nn.Conv2d(hidden, channels, 1, bias=False))

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        avg = self.mlp(x.mean(dim=(2, 3), keepdim=True))
        mx = self.mlp(x.amax(dim=(2, 3), keepdim=True))
        if self.order == SIGMOID_THEN_SUM:
            return x * (torch.sigmoid(avg) + torch.sigmoid(mx))
        return x * torch.sigmoid(avg + mx)


class SpatialAttention(nn.Module):
    """Spatial gate: sigmoid(bn(conv7x7([mean_c(x), max_c(x)]))) * x.

    Args:
        kernel_size (int): Conv kernel size. Default 7.
    """

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=False)
        self.bn = nn.BatchNorm2d(1)

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`."""
        return [('conv', 'bn')]

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        desc = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.bn(self.conv(desc)))


@MODELS.register_module()
class CBAM(nn.Module):
    """Convolutional block attention module: channel attention, then spatial attention.

    Args:
        channels (int): Input channels C.
        reduction (int): Channel-MLP reduction. Default 16.
        kernel_size (int): Spatial conv kernel. Default 7.
        channel_gate (str): Order of the channel gate's sigmoid and sum, one of
            :data:`CHANNEL_GATE_ORDERS`: ``'sum_then_sigmoid'`` (default, standard CBAM) or
            ``'sigmoid_then_sum'`` (the reproduction report's reading).
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7,
                 channel_gate: str = SUM_THEN_SIGMOID) -> None:
        super().__init__()
        self.channel_attention = ChannelAttention(channels, reduction, channel_gate)
        self.spatial_attention = SpatialAttention(kernel_size)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, C, H, W)."""
        return self.spatial_attention(self.channel_attention(x))
