"""HFL-Net hand head: heatmaps -> encoder -> 6D pose + betas -> MANO mesh.

State-dict map to the authors' checkpoint (a pure prefix map):
``heatmap_head.*`` <- ``hand_head.*``, ``encoder.*`` <- ``hand_encoder.*``,
``mano_regressor.*`` <- ``mano_branch.*`` except ``mano_branch.coord_change_mat`` (used by the
authors only to turn HO3D predictions into OpenGL inside the head; here that conversion belongs
to the HO3D dump, so the converter drops it) and ``mano_branch.mano_layer.*`` (MANO model data,
never stored in our checkpoints).
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmhandobj.models.mano import (
    ManoLayer,
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    rot6d_to_matrix,
)
from mmhandobj.registry import MODELS
from mmhandobj.structures.geometry import box_normalised_to_pixels, solve_hand_root

from .hourglass import HAND_ACT_CFG, HourglassHeatmapNet, PreActBottleneck
from .weight_init import hfl_head_init_cfg

NUM_MANO_JOINTS = 16
NUM_BETAS = 10
#: Fields of :meth:`HandMANOHead.forward` that :meth:`HandMANOHead.predict` puts in
#: ``pred_instances`` (besides ``hand_joints2d_img``).
PREDICT_FIELDS = ('hand_joints3d', 'hand_verts3d', 'hand_joints2d_crop', 'mano_pose',
                  'mano_shape')

#: MANO settings of the reference (manopth ``ManoLayer`` built in ``utils.get_network``).
DEFAULT_MANO_CFG: Dict = dict(
    side='right', use_pca=False, flat_hand_mean=True, center_idx=0, units='mm')


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


@MODELS.register_module()
class HandMANOHead(BaseModule):
    """HFL-Net hand branch on the fused hand RoI feature.

    hourglass heatmaps (2D joints by soft-argmax) -> encoder (1024-d) -> MLP -> 16 rotations (6D)
    + 10 betas -> MANO (right hand, full 45-D pose, flat mean, wrist-centred). The 6D outputs
    become matrices (columns ``b1, b2, b3``), then axis-angle for the MANO layer.

    Args:
        in_channels (int): Channels of the hand RoI feature.
        roi_size (int): Spatial size of the (square) RoI feature.
        num_joints (int): 2D heatmaps / 3D joints (21).
        hourglass_depth (int): Hourglass recursion depth.
        encoder_stages (int): Max-pool stages of the encoder (its output has
            ``in_channels * (roi_size / 2**encoder_stages)**2`` features).
        mano_hidden (Sequence[int]): Hidden sizes of the MANO parameter MLP.
        mano_cfg (dict, optional): Keyword arguments of :class:`ManoLayer`, merged over the
            defaults ``side='right', use_pca=False, flat_hand_mean=True, center_idx=0,
            units='mm'``. With ``units='mm'`` the head divides the output by 1000 exactly as the
            reference (bit-identical to manopth followed by ``/ 1000``). ``use_pca`` must stay
            False and ``flat_hand_mean`` True: the head predicts full joint rotations and the
            ground-truth pose is flat-mean.
        act_cfg (dict, optional): Activation of every block (reference: LeakyReLU 0.01).
        loss_verts, loss_joints, loss_pose, loss_shape, loss_joints2d (dict, optional): Loss
            configs; defaults are :class:`MSELoss` with the reference weights 1e4, 1e4, 10, 0.1
            and 100.
        loss_heatmap (dict, optional): An extra dense term on the heatmaps (e.g.
            :class:`~mmhandobj.models.losses.HeatmapKLLoss`), called as
            ``loss(hand_heatmap_logits, hand_joints2d_boxnorm)``; ``None`` (the reference) =
            no such term.
        init_cfg (dict | list[dict], optional): ``None`` = the reference init
            (:func:`hfl_head_init_cfg`); ``[]`` = PyTorch defaults.
    """

    def __init__(self, in_channels: int = 256, roi_size: int = 32, num_joints: int = 21,
                 hourglass_depth: int = 4, encoder_stages: int = 4,
                 mano_hidden: Sequence[int] = (1024, 512), mano_cfg: Optional[Dict] = None,
                 act_cfg: Optional[Dict] = None, loss_verts: Optional[Dict] = None,
                 loss_joints: Optional[Dict] = None, loss_pose: Optional[Dict] = None,
                 loss_shape: Optional[Dict] = None, loss_joints2d: Optional[Dict] = None,
                 loss_heatmap: Optional[Dict] = None,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=hfl_head_init_cfg() if init_cfg is None else init_cfg)
        pooled = roi_size // 2 ** encoder_stages
        if pooled * 2 ** encoder_stages != roi_size or pooled == 0:
            raise ValueError(f'roi_size={roi_size} is not divisible by 2**encoder_stages='
                             f'{2 ** encoder_stages}')
        self.heatmap_head = HourglassHeatmapNet(
            in_channels, num_joints, roi_size, hourglass_depth, act_cfg=act_cfg)
        self.encoder = HeatmapFeatureEncoder(
            num_joints, in_channels, encoder_stages, act_cfg=act_cfg)
        self.mano_regressor = MANOParamRegressor(
            in_channels * pooled * pooled, mano_hidden, act_cfg=act_cfg)

        mano_cfg = {**DEFAULT_MANO_CFG, **(mano_cfg or {})}
        if mano_cfg['use_pca'] or not mano_cfg['flat_hand_mean']:
            raise ValueError('HandMANOHead needs mano_cfg use_pca=False and '
                             f'flat_hand_mean=True, got {mano_cfg}')
        if mano_cfg['units'] not in ('mm', 'm'):
            raise ValueError(f"mano_cfg units must be 'mm' or 'm', got {mano_cfg['units']!r}")
        self.mano_units = mano_cfg['units']
        self.mano_layer = ManoLayer(**mano_cfg)

        self.loss_verts = MODELS.build(loss_verts or dict(type='MSELoss', loss_weight=1e4))
        self.loss_joints = MODELS.build(loss_joints or dict(type='MSELoss', loss_weight=1e4))
        self.loss_pose = MODELS.build(loss_pose or dict(type='MSELoss', loss_weight=10.0))
        self.loss_shape = MODELS.build(loss_shape or dict(type='MSELoss', loss_weight=0.1))
        self.loss_joints2d = MODELS.build(
            loss_joints2d or dict(type='MSELoss', loss_weight=100.0))
        self.loss_heatmap = None if loss_heatmap is None else MODELS.build(loss_heatmap)

    def mano_forward(self, pose_aa: Tensor, betas: Tensor) -> Tuple[Tensor, Tensor]:
        """Run MANO and return metres.

        Args:
            pose_aa: ``(B, 48)`` axis-angle (global + 15 joints, flat-mean).
            betas: ``(B, 10)`` shape.

        Returns:
            verts ``(B, 778, 3)`` and joints ``(B, 21, 3)`` (simple order), metres,
            wrist-centred.
        """
        verts, joints = self.mano_layer(pose_aa, betas)
        if self.mano_units == 'mm':
            verts, joints = verts / 1000, joints / 1000
        return verts, joints

    def forward(self, x: Tensor, hand_boxes: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Predict the hand (the names of the data-sample contract, batched, as tensors).

        Args:
            x: ``(B, in_channels, roi_size, roi_size)`` fused hand RoI feature.
            hand_boxes: ``(B, 4)`` hand RoI boxes x1y1x2y2, crop pixels; when given, the 2D
                joints are also returned in crop pixels.

        Returns:
            dict with
            ``hand_heatmaps`` ``(B, 21, S, S)`` (softmax over the cells) and their
            ``hand_heatmap_logits``,
            ``hand_joints2d_boxnorm`` ``(B, 21, 2)`` soft-argmax (u = column, v = row) in
            [0, 1] of the hand box,
            ``hand_joints2d_crop`` ``(B, 21, 2)`` the same in crop pixels (only with
            ``hand_boxes``),
            ``mano_pose_rotmat`` ``(B, 16, 3, 3)``, ``mano_pose`` ``(B, 48)`` (axis-angle,
            radians), ``mano_shape`` ``(B, 10)`` (betas),
            ``hand_verts3d`` ``(B, 778, 3)`` and ``hand_joints3d`` ``(B, 21, 3)`` (simple
            order), metres, wrist-centred.
        """
        hm = self.heatmap_head(x)
        code = self.encoder(hm['hand_heatmaps'], hm['features'])
        params = self.mano_regressor(code)
        rotmat = rot6d_to_matrix(params['pose6d'])
        pose_aa = matrix_to_axis_angle(rotmat).flatten(1)
        verts, joints = self.mano_forward(pose_aa, params['betas'])
        preds = dict(hand_heatmaps=hm['hand_heatmaps'],
                     hand_heatmap_logits=hm['hand_heatmap_logits'],
                     hand_joints2d_boxnorm=hm['hand_joints2d_boxnorm'])
        if hand_boxes is not None:
            preds['hand_joints2d_crop'] = box_normalised_to_pixels(
                hm['hand_joints2d_boxnorm'], hand_boxes)
        preds.update(mano_pose_rotmat=rotmat, mano_pose=pose_aa, mano_shape=params['betas'],
                     hand_verts3d=verts, hand_joints3d=joints)
        return preds

    def loss(self, preds: Dict[str, Tensor], mano_pose: Tensor, mano_shape: Tensor,
             hand_joints2d_boxnorm: Tensor) -> Dict[str, Tensor]:
        """Reference hand losses (all mean squared errors).

        Ground-truth vertices and joints come from the MANO layer on the GT parameters (no
        gradient); GT rotation matrices from Rodrigues' formula on the GT axis-angle.

        Args:
            preds: output of :meth:`forward`.
            mano_pose: ``(B, 48)`` GT axis-angle, flat-hand-mean, in the network's frame.
            mano_shape: ``(B, 10)`` GT betas.
            hand_joints2d_boxnorm: ``(B, 21, 2)`` GT 2D joints normalised to the hand box.

        Returns:
            dict of weighted scalars ``loss_mano_verts``, ``loss_mano_joints``,
            ``loss_mano_pose``, ``loss_mano_shape``, ``loss_joints2d`` and, with
            ``loss_heatmap`` configured, ``loss_heatmap``.
        """
        batch = preds['mano_shape'].shape[0]
        if mano_pose.shape != (batch, NUM_MANO_JOINTS * 3):
            raise ValueError(f'mano_pose must have shape ({batch}, 48), got '
                             f'{tuple(mano_pose.shape)}')
        if mano_shape.shape != (batch, NUM_BETAS):
            raise ValueError(f'mano_shape must have shape ({batch}, 10), got '
                             f'{tuple(mano_shape.shape)}')
        with torch.no_grad():
            gt_verts, gt_joints = self.mano_forward(mano_pose, mano_shape)
            gt_rotmat = axis_angle_to_matrix(mano_pose.view(batch, NUM_MANO_JOINTS, 3))
        losses = dict(
            loss_mano_verts=self.loss_verts(preds['hand_verts3d'], gt_verts),
            loss_mano_joints=self.loss_joints(preds['hand_joints3d'], gt_joints),
            loss_mano_pose=self.loss_pose(preds['mano_pose_rotmat'], gt_rotmat),
            loss_mano_shape=self.loss_shape(preds['mano_shape'], mano_shape),
            loss_joints2d=self.loss_joints2d(preds['hand_joints2d_boxnorm'],
                                             hand_joints2d_boxnorm))
        if self.loss_heatmap is not None:
            losses['loss_heatmap'] = self.loss_heatmap(preds['hand_heatmap_logits'],
                                                       hand_joints2d_boxnorm)
        return losses

    def predict(self, x: Tensor, hand_boxes: Tensor,
                batch_data_samples: Sequence) -> List[InstanceData]:
        """Predict and decode the hand of every sample (fields of the data-sample contract).

        The soft-argmax joints go from hand-box-normalised to crop pixels with ``hand_boxes``,
        then to original-image pixels with each sample's metainfo (``crop_affine``, ``flip``,
        ``ori_shape``; :meth:`~mmhandobj.structures.HandObjectDataSample.crop_to_image`).

        Args:
            x: ``(B, in_channels, roi_size, roi_size)`` fused hand RoI feature.
            hand_boxes: ``(B, 4)`` hand RoI boxes x1y1x2y2, crop pixels.
            batch_data_samples: ``B`` :class:`~mmhandobj.structures.HandObjectDataSample`.

        Returns:
            One ``InstanceData`` per sample with ``hand_joints3d`` (1, 21, 3) and
            ``hand_verts3d`` (1, 778, 3) (metres, wrist-centred, network frame),
            ``hand_joints2d_crop`` and ``hand_joints2d_img`` (1, 21, 2) pixels,
            ``mano_pose`` (1, 48), ``mano_shape`` (1, 10) and ``hand_root`` (1, 3) (the wrist
            in the original camera, metres, solved from the 3D and 2D joints with metainfo
            ``ori_cam_intr`` by :func:`~mmhandobj.structures.geometry.solve_hand_root`; NaN
            when no root in front of the camera fits); float32 numpy arrays.
        """
        preds = self.forward(x, hand_boxes)
        host = {key: preds[key].detach().float().cpu().numpy() for key in PREDICT_FIELDS}
        results = []
        for i, sample in enumerate(batch_data_samples):
            pred = InstanceData(**{key: value[i:i + 1] for key, value in host.items()})
            pred.hand_joints2d_img = sample.crop_to_image(
                host['hand_joints2d_crop'][i])[None].astype(np.float32)
            root = solve_hand_root(host['hand_joints3d'][i], pred.hand_joints2d_img[0],
                                   sample.metainfo['ori_cam_intr'],
                                   bool(sample.metainfo.get('flip', False)))
            pred.hand_root = np.full((1, 3), np.nan, np.float32) if root is None else (
                root[None].astype(np.float32))
            results.append(pred)
        return results
