"""HFL-Net object head: per-cell votes for the 21 object box keypoints (+ confidence).

State-dict map to the authors' checkpoint: ``obj_head.*`` -> this module's keys unchanged.
"""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmengine.structures import InstanceData
from torch import Tensor, nn

from mmhandobj.registry import MODELS
from mmhandobj.structures.geometry import box_normalised_to_pixels

from .pnp import best_votes, select_votes, solve_object_pose
from .weight_init import hfl_head_init_cfg

#: Activation of the object head in the reference: LeakyReLU with slope 0.1.
OBJ_ACT_CFG: Dict = dict(type='LeakyReLU', negative_slope=0.1, inplace=True)
#: Test-time vote selection and PnP settings of the reference (``bestCnt``, confidence
#: threshold, fewest correspondences for PnP).
DEFAULT_TEST_CFG: Dict = dict(vote_topk=10, vote_conf_thr=0.5, pnp_min_points=6)


def decode_votes(raw: Tensor, num_keypoints: int, offset_scale: float = 10.0) -> Dict[str, Tensor]:
    """Turn the raw ``3K``-channel map into per-cell votes (reference ``Pose2DLayer``).

    Channels ``[0:K]`` are confidence logits, ``[K:2K]`` x offsets, ``[2K:3K]`` y offsets. A cell
    at (row, col) of an ``H x W`` grid votes ``x = (dx + offset_scale * (col + 0.5) / W) /
    offset_scale`` (i.e. ``dx / offset_scale + (col + 0.5) / W``; evaluated in the reference's
    order for float parity) and likewise ``y`` with rows and ``H``.

    Args:
        raw: ``(B, 3K, H, W)`` head output.
        num_keypoints (int): ``K``.
        offset_scale (float): The reference's ``coord_norm_factor`` (10).

    Returns:
        dict of ``obj_vote_x``, ``obj_vote_y`` (object-box-normalised units) and
        ``obj_vote_conf`` (sigmoid, in (0, 1)), each ``(B, H, W, K)`` (rows, cols, keypoint).
    """
    b, c, h, w = raw.shape
    if c != 3 * num_keypoints:
        raise ValueError(f'expected {3 * num_keypoints} channels, got {c}')
    raw = raw.permute(0, 2, 3, 1)
    conf_logit, dx, dy = raw.split(num_keypoints, dim=3)
    cols = torch.arange(w, dtype=raw.dtype, device=raw.device)
    rows = torch.arange(h, dtype=raw.dtype, device=raw.device)
    grid_x = ((cols + 0.5) / w * offset_scale).view(1, 1, w, 1)
    grid_y = ((rows + 0.5) / h * offset_scale).view(1, h, 1, 1)
    return dict(obj_vote_x=(dx + grid_x) / offset_scale,
                obj_vote_y=(dy + grid_y) / offset_scale,
                obj_vote_conf=torch.sigmoid(conf_logit))


@MODELS.register_module()
class ObjectKeypointHead(BaseModule):
    """Conv head voting, from every RoI cell, for the 2D position of each object keypoint.

    Three times [1x1 conv ``C -> C/2`` + BN + act, 3x3 conv ``C/2 -> C`` + BN + act], then a 1x1
    conv to ``3K`` channels decoded by :func:`decode_votes`. Attribute names are the authors'
    (``conv{1,2,3}_{1,2}``, ``bn*``, ``out_conv``).

    Args:
        in_channels (int): Channels of the object RoI feature.
        mid_channels (int, optional): Width of the 1x1 convs (default ``in_channels // 2``).
        num_keypoints (int): ``K`` (21 box keypoints).
        act_cfg (dict): Activation config (reference: LeakyReLU 0.1).
        loss_reg (dict): Config of the vote regression loss.
        loss_conf (dict): Config of the confidence loss.
        init_cfg (dict | list[dict], optional): Weight init; ``None`` = the reference's
            (:func:`hfl_head_init_cfg`), ``[]`` = keep PyTorch's defaults.
    """

    def __init__(self, in_channels: int = 256, mid_channels: Optional[int] = None,
                 num_keypoints: int = 21, act_cfg: Optional[Dict] = None,
                 loss_reg: Optional[Dict] = None, loss_conf: Optional[Dict] = None,
                 init_cfg: Optional[Union[Dict, List[Dict]]] = None) -> None:
        super().__init__(init_cfg=hfl_head_init_cfg() if init_cfg is None else init_cfg)
        mid = mid_channels or in_channels // 2
        self.num_keypoints = num_keypoints
        for i in (1, 2, 3):
            setattr(self, f'conv{i}_1', nn.Conv2d(in_channels, mid, kernel_size=1))
            setattr(self, f'bn{i}_1', nn.BatchNorm2d(mid))
            setattr(self, f'conv{i}_2', nn.Conv2d(mid, in_channels, kernel_size=3, padding=1))
            setattr(self, f'bn{i}_2', nn.BatchNorm2d(in_channels))
        self.out_conv = nn.Conv2d(in_channels, 3 * num_keypoints, kernel_size=1)
        self.act = build_activation_layer(copy.deepcopy(act_cfg or OBJ_ACT_CFG))
        self.loss_reg = MODELS.build(loss_reg or dict(type='VoteRegressionLoss', loss_weight=500.))
        self.loss_conf = MODELS.build(
            loss_conf or dict(type='VoteConfidenceLoss', loss_weight=100.))

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`."""
        return [(f'conv{i}_{j}', f'bn{i}_{j}') for i in (1, 2, 3) for j in (1, 2)]

    def forward(self, x: Tensor) -> Dict[str, Tensor]:
        """Predict keypoint votes.

        Args:
            x: ``(B, in_channels, H, W)`` object RoI feature (32x32 in HFL-Net).

        Returns:
            dict of ``obj_vote_x``, ``obj_vote_y``, ``obj_vote_conf``, each ``(B, H, W, K)``;
            see :func:`decode_votes`.
        """
        out = x
        for i in (1, 2, 3):
            out = self.act(getattr(self, f'bn{i}_1')(getattr(self, f'conv{i}_1')(out)))
            out = self.act(getattr(self, f'bn{i}_2')(getattr(self, f'conv{i}_2')(out)))
        return decode_votes(self.out_conv(out), self.num_keypoints)

    def loss(self, preds: Dict[str, Tensor], obj_kps2d_boxnorm: Tensor,
             obj_mask: Tensor) -> Dict[str, Tensor]:
        """Vote losses.

        Args:
            preds: output of :meth:`forward`.
            obj_kps2d_boxnorm: ``(B, K, 2)`` GT keypoints normalised to the object box.
            obj_mask: ``(B, H, W)`` object mask on the RoI grid (1 = object), float.

        Returns:
            dict with ``loss_obj_reg`` and ``loss_obj_conf`` (weighted scalars).
        """
        vx, vy, conf = preds['obj_vote_x'], preds['obj_vote_y'], preds['obj_vote_conf']
        return dict(
            loss_obj_reg=self.loss_reg(vx, vy, obj_kps2d_boxnorm, obj_mask),
            loss_obj_conf=self.loss_conf(vx, vy, conf, obj_kps2d_boxnorm, obj_mask))

    def predict(self, x: Tensor, obj_boxes: Tensor, batch_data_samples: Sequence,
                test_cfg: Optional[Dict] = None) -> List[InstanceData]:
        """Predict the votes, decode the 2D keypoints and solve the object pose per sample.

        Votes go object-box-normalised -> crop pixels (``obj_boxes``) -> original-image pixels
        (each sample's ``crop_affine``, un-mirrored when ``flip``); the ``vote_topk`` most
        confident votes per keypoint above ``vote_conf_thr`` (:func:`select_votes`) are then
        matched to ``gt_instances.obj_kps3d`` (the object identity, given at test time as in
        the benchmark protocol) and :func:`solve_object_pose` (EPnP-RANSAC) runs with metainfo
        ``ori_cam_intr``. Without ``obj_kps3d`` no pose is solved.

        Args:
            x: ``(B, in_channels, H, W)`` fused object RoI feature.
            obj_boxes: ``(B, 4)`` object RoI boxes x1y1x2y2, crop pixels.
            batch_data_samples: ``B`` :class:`~mmhandobj.structures.HandObjectDataSample`.
            test_cfg: ``vote_topk``, ``vote_conf_thr``, ``pnp_min_points`` (defaults
                :data:`DEFAULT_TEST_CFG`).

        Returns:
            One ``InstanceData`` per sample with ``obj_kps2d_crop`` and ``obj_kps2d_img``
            (1, 21, 2) pixels (the most confident vote of each keypoint) and, when the object
            is known, ``obj_rot`` (1, 3, 3) and ``obj_trans`` (1, 3) (model -> original camera,
            metres); float32 numpy arrays.
        """
        cfg = {**DEFAULT_TEST_CFG, **(test_cfg or {})}
        preds = self.forward(x)
        votes = (preds['obj_vote_x'], preds['obj_vote_y'], preds['obj_vote_conf'])
        selected = select_votes(*votes, topk=cfg['vote_topk'], conf_thr=cfg['vote_conf_thr'])
        votes_crop = [box_normalised_to_pixels(points, box).cpu().numpy()
                      for (points, _), box in zip(selected, obj_boxes)]
        best_crop = box_normalised_to_pixels(best_votes(*votes), obj_boxes).cpu().numpy()
        results = []
        for i, sample in enumerate(batch_data_samples):
            pred = InstanceData(
                obj_kps2d_crop=best_crop[i][None].astype(np.float32),
                obj_kps2d_img=sample.crop_to_image(best_crop[i])[None].astype(np.float32))
            gt = sample.gt_instances if 'gt_instances' in sample else None
            if gt is not None and 'obj_kps3d' in gt:
                if 'ori_cam_intr' not in sample.metainfo:
                    raise KeyError(f'ObjectKeypointHead.predict: batch_data_samples[{i}].'
                                   "metainfo lacks 'ori_cam_intr' (needed for PnP)")
                kps3d = torch.as_tensor(gt.obj_kps3d).float()[0].cpu().numpy()
                rot, trans, _ = solve_object_pose(
                    sample.crop_to_image(votes_crop[i]), kps3d[selected[i][1].cpu().numpy()],
                    sample.metainfo['ori_cam_intr'], min_points=cfg['pnp_min_points'])
                pred.obj_rot = rot[None].astype(np.float32)
                pred.obj_trans = trans[None].astype(np.float32)
            results.append(pred)
        return results
