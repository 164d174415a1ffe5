"""HFL-Net hand head: heatmaps -> encoder -> 6D pose + betas -> MANO mesh.

State-dict map to the authors' checkpoint (a pure prefix map):
``heatmap_head.*`` <- ``hand_head.*``, ``encoder.*`` <- ``hand_encoder.*``,
``mano_regressor.*`` <- ``mano_branch.*`` except ``mano_branch.coord_change_mat`` (used by the
authors only to turn HO3D predictions into OpenGL inside the head; here that conversion belongs
to the HO3D dump, so the converter drops it) and ``mano_branch.mano_layer.*`` (MANO model data,
never stored in our checkpoints).
"""
import copy
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmhandobj.models.mano import (ManoLayer, axis_angle_to_matrix, matrix_to_axis_angle,
                                   rot6d_to_matrix)
from mmhandobj.registry import MODELS
from .hourglass import HAND_ACT_CFG, HourglassHeatmapNet, PreActBottleneck

NUM_MANO_JOINTS = 16
NUM_BETAS = 10


class HeatmapFeatureEncoder(nn.Module):
    """Fuse heatmaps with the hourglass feature and pool to a global vector (``hand_Encoder``).

    ``x = heatmap_conv(heatmaps) + encoding_conv(features)``, then ``num_stages`` times
    [``blocks_per_stage`` :class:`PreActBottleneck`, 2x2 max-pool], then flatten.

    Args:
        num_joints (int): Heatmap channels.
        channels (int): Feature channels.
        num_stages (int): Pooling stages (each halves H and W).
        blocks_per_stage (int): Residual blocks before each pooling.
        act_cfg (dict): Activation config.

    Shapes:
        heatmaps ``(B, J, S, S)``, features ``(B, C, S, S)`` -> ``(B, C * (S / 2**stages)**2)``;
        with the defaults and ``S = 32``: ``(B, 1024)``.
    """

    def __init__(self, num_joints: int = 21, channels: int = 256, num_stages: int = 4,
                 blocks_per_stage: int = 2, act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        self.num_stages = num_stages
        self.blocks_per_stage = blocks_per_stage
        self.heatmap_conv = nn.Conv2d(num_joints, channels, kernel_size=1)
        self.encoding_conv = nn.Conv2d(channels, channels, kernel_size=1)
        self.reg = nn.ModuleList([
            PreActBottleneck(channels, channels // 2, act_cfg, norm_names=('bn', 'bn1', 'bn2'))
            for _ in range(num_stages * blocks_per_stage)
        ])

    def forward(self, heatmaps: Tensor, features: Tensor) -> Tensor:
        x = self.heatmap_conv(heatmaps) + self.encoding_conv(features)
        for stage in range(self.num_stages):
            for block in range(self.blocks_per_stage):
                x = self.reg[stage * self.blocks_per_stage + block](x)
            x = F.max_pool2d(x, kernel_size=2, stride=2)
        return x.flatten(1)


class MANOParamRegressor(nn.Module):
    """MLP from the encoder vector to 16 6D joint rotations and 10 betas (``mano_regHead``).

    ``mano_base_layer`` = [Linear, act] per hidden size; ``pose_reg`` -> ``16 * 6``;
    ``shape_reg`` -> 10. No camera or translation output.

    Args:
        in_features (int): Input vector size.
        hidden_sizes (Sequence[int]): Hidden layer sizes.
        act_cfg (dict): Activation config.

    Shapes:
        ``(B, in_features)`` -> pose6d ``(B, 16, 6)``, betas ``(B, 10)``.
    """

    def __init__(self, in_features: int = 1024, hidden_sizes: Sequence[int] = (1024, 512),
                 act_cfg: Optional[Dict] = None) -> None:
        super().__init__()
        layers = []
        sizes = [in_features, *hidden_sizes]
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out),
                       build_activation_layer(copy.deepcopy(act_cfg or HAND_ACT_CFG))]
        self.mano_base_layer = nn.Sequential(*layers)
        self.pose_reg = nn.Linear(sizes[-1], NUM_MANO_JOINTS * 6)
        self.shape_reg = nn.Linear(sizes[-1], NUM_BETAS)

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        feat = self.mano_base_layer(x)
        return dict(pose6d=self.pose_reg(feat).view(-1, NUM_MANO_JOINTS, 6),
                    betas=self.shape_reg(feat))
