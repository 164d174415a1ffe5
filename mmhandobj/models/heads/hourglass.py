"""Pre-activation residual blocks and the hourglass heatmap network of the HFL-Net hand branch.

Attribute names follow the authors' modules (``hand_regHead`` / ``hand_Encoder``) so that their
checkpoint keys load through a pure prefix map.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from torch import Tensor, nn

#: Default activation of the hand branch (PyTorch's LeakyReLU default slope, as the reference).
HAND_ACT_CFG: Dict = dict(type='LeakyReLU', negative_slope=0.01, inplace=True)


class PreActBottleneck(nn.Module):
    """Pre-activation bottleneck: ``x + conv3(act(bn(conv2(act(bn(conv1(act(bn(x)))))))))``.

    1x1 ``channels -> mid_channels``, 3x3 ``mid_channels -> mid_channels`` (padding 1), 1x1
    ``mid_channels -> channels``; all convs have a bias; identity skip (same shape in and out).

    Args:
        channels (int): Input and output channels.
        mid_channels (int): Channels of the two inner convs.
        act_cfg (dict): Activation config (mmcv ``build_activation_layer``).
        norm_names (Sequence[str]): Attribute names of the three BatchNorms, in order. The
            hourglass blocks of the reference call them ``('bn1', 'bn2', 'bn3')``, the encoder
            blocks ``('bn', 'bn1', 'bn2')``; only the state-dict names differ.

    Shapes:
        ``(B, channels, H, W) -> (B, channels, H, W)``.
    """

    def __init__(self, channels: int, mid_channels: int, act_cfg: Optional[Dict] = None,
                 norm_names: Sequence[str] = ('bn1', 'bn2', 'bn3')) -> None:
        super().__init__()
        if len(norm_names) != 3:
            raise ValueError(f'norm_names must hold 3 names, got {norm_names!r}')
        self.norm_names = tuple(norm_names)
        self.add_module(self.norm_names[0], nn.BatchNorm2d(channels))
        self.conv1 = nn.Conv2d(channels, mid_channels, kernel_size=1)
        self.add_module(self.norm_names[1], nn.BatchNorm2d(mid_channels))
        self.conv2 = nn.Conv2d(mid_channels, mid_channels, kernel_size=3, padding=1)
        self.add_module(self.norm_names[2], nn.BatchNorm2d(mid_channels))
        self.conv3 = nn.Conv2d(mid_channels, channels, kernel_size=1)
        self.act = build_activation_layer(copy.deepcopy(act_cfg or HAND_ACT_CFG))

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`.

        Pre-activation: the first BatchNorm runs on the block input, each later one on the
        output of the conv before it.
        """
        return [('conv1', self.norm_names[1]), ('conv2', self.norm_names[2])]

    def forward(self, x: Tensor) -> Tensor:
        norm1, norm2, norm3 = (getattr(self, name) for name in self.norm_names)
        out = self.conv1(self.act(norm1(x)))
        out = self.conv2(self.act(norm2(out)))
        out = self.conv3(self.act(norm3(out)))
        return out + x


class Hourglass(nn.Module):
    """Recursive hourglass (Newell et al. 2016) with one block per branch.

    ``self.hg[level]`` holds the branches of one recursion level, level 0 being the innermost:
    ``[0]`` the full-resolution skip branch, ``[1]`` the block after the 2x2 max-pool, ``[2]`` the
    block before the nearest 2x upsampling and, at level 0 only, ``[3]`` the bottom block. Each
    branch is an ``nn.Sequential`` of ``num_blocks`` :class:`PreActBottleneck`. With depth 4 and
    one block per branch that is 13 blocks.

    Args:
        channels (int): Feature channels (kept everywhere).
        depth (int): Number of recursion levels (down-sampling steps).
        num_blocks (int): Blocks per branch.
        act_cfg (dict): Activation config.

    Shapes:
        ``(B, channels, H, W) -> (B, channels, H, W)``; ``H`` and ``W`` must be divisible by
        ``2 ** depth``.
    """

    def __init__(self, channels: int = 256, depth: int = 4, num_blocks: int = 1,
                 act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.depth = depth

        def branch() -> nn.Sequential:
            return nn.Sequential(*[
                PreActBottleneck(channels, channels // 2, act_cfg) for _ in range(num_blocks)])

        self.hg = nn.ModuleList([
            nn.ModuleList([branch() for _ in range(4 if level == 0 else 3)])
            for level in range(depth)
        ])

    def _forward_level(self, level: int, x: Tensor) -> Tensor:
        branches = self.hg[level]
        up = branches[0](x)
        low = branches[1](F.max_pool2d(x, 2, stride=2))
        low = self._forward_level(level - 1, low) if level > 0 else branches[3](low)
        low = branches[2](low)
        return up + F.interpolate(low, scale_factor=2, mode='nearest')

    def forward(self, x: Tensor) -> Tensor:
        size = 2 ** self.depth
        if x.shape[-2] % size or x.shape[-1] % size:
            raise ValueError(f'Hourglass of depth {self.depth} needs H and W divisible by {size}, '
                             f'got input of shape {tuple(x.shape)}')
        return self._forward_level(self.depth - 1, x)


class ConvBNAct(nn.Module):
    """``Conv2d (bias) -> BatchNorm2d -> activation`` held in ``self.block`` (reference naming).

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Square kernel size (same padding, stride 1).
        act_cfg (dict): Activation config.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1,
                 act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, kernel_size, padding=(kernel_size - 1) // 2),
            nn.BatchNorm2d(out_channels),
            build_activation_layer(copy.deepcopy(act_cfg or HAND_ACT_CFG)))

    def forward(self, x: Tensor) -> Tensor:
        return self.block(x)


class HourglassHeatmapNet(nn.Module):
    """Hourglass -> residual -> conv-BN-act -> 1x1 score, spatial softmax and soft-argmax.

    The reference ``hand_regHead`` with one stack. The modules sit in length-1 lists (``hg.0``,
    ``res.0``, ``fc.0``, ``score.0``) only so that the authors' state-dict keys map unchanged.

    The heatmap of joint ``j`` is ``softmax(betas[j] * score[j])`` over the ``size * size``
    cells; its soft-argmax is ``u = sum(H * (col + 0.5) / size)``, ``v = sum(H * (row + 0.5) /
    size)``, i.e. box-normalised coordinates in [0, 1] with (0, 0) the top-left box corner.

    Args:
        channels (int): Input/feature channels.
        num_joints (int): Number of heatmaps.
        size (int): Spatial size of the (square) input RoI feature.
        depth (int): Hourglass depth.
        num_blocks (int): Blocks per hourglass branch and in the residual stage.
        act_cfg (dict): Activation config.

    Buffers:
        ``uu``, ``vv`` ``(size, size)``: cell-centre column / row coordinates divided by
        ``size`` (persistent, as in the authors' checkpoint).
    """

    def __init__(self, channels: int = 256, num_joints: int = 21, size: int = 32,
                 depth: int = 4, num_blocks: int = 1, act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.num_joints = num_joints
        self.size = size
        self.betas = nn.Parameter(torch.ones(num_joints, 1))
        rows, cols = torch.meshgrid(
            torch.arange(size, dtype=torch.float32), torch.arange(size, dtype=torch.float32),
            indexing='ij')
        self.register_buffer('uu', (cols + 0.5) / size)
        self.register_buffer('vv', (rows + 0.5) / size)
        self.hg = nn.ModuleList([Hourglass(channels, depth, num_blocks, act_cfg)])
        self.res = nn.ModuleList([nn.Sequential(*[
            PreActBottleneck(channels, channels // 2, act_cfg) for _ in range(num_blocks)])])
        self.fc = nn.ModuleList([ConvBNAct(channels, channels, 1, act_cfg)])
        self.score = nn.ModuleList([nn.Conv2d(channels, num_joints, kernel_size=1)])

    def spatial_softmax(self, latents: Tensor) -> Tuple[Tensor, Tensor]:
        """``(B, J, S, S)`` scores -> heatmaps, softmax of ``betas[j] * score`` over the cells.

        Returns:
            heatmaps and their logits ``betas[j] * score``, both ``(B, J, S, S)``.
        """
        scaled = latents.flatten(2) * self.betas
        shape = (-1, self.num_joints, self.size, self.size)
        return scaled.softmax(dim=2).view(shape), scaled.view(shape)

    def soft_argmax(self, heatmaps: Tensor) -> Tensor:
        """``(B, J, S, S)`` heatmaps -> ``(B, J, 2)`` expected (u, v) cell centres / ``S``."""
        return torch.stack([(heatmaps * self.uu).sum(dim=2).sum(dim=2),
                            (heatmaps * self.vv).sum(dim=2).sum(dim=2)], dim=2)

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        """Predict heatmaps and their soft-argmax.

        Args:
            x: ``(B, channels, size, size)`` hand RoI feature.

        Returns:
            dict with ``hand_heatmaps`` ``(B, J, size, size)`` (each sums to 1),
            ``features`` ``(B, channels, size, size)`` (the ``fc`` output fed to the
            encoder), ``hand_heatmap_logits`` ``(B, J, size, size)`` (pre-softmax) and
            ``hand_joints2d_boxnorm`` ``(B, J, 2)`` (u, v) normalised to the hand box
            ((0, 0) top-left, (1, 1) bottom-right).
        """
        if x.shape[-2:] != (self.size, self.size):
            raise ValueError(f'expected a ({self.size}, {self.size}) RoI feature, got '
                             f'shape {tuple(x.shape)}')
        y = self.fc[0](self.res[0](self.hg[0](x)))
        heatmaps, logits = self.spatial_softmax(self.score[0](y))
        return dict(hand_heatmaps=heatmaps, features=y, hand_heatmap_logits=logits,
                    hand_joints2d_boxnorm=self.soft_argmax(heatmaps))
