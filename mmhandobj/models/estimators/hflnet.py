"""HFL-Net (Lin et al., CVPR 2023): harmonious feature learning for hand-object pose."""
from typing import Dict, List, Optional, Union

import numpy as np
import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from mmhandobj.models.heads.pnp import box_normalised_to_pixels, select_votes, solve_object_pose
from mmhandobj.models.roi_extractors import validate_boxes
from mmhandobj.registry import MODELS
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

SampleList = List[HandObjectDataSample]


def normalise_to_box(points: Tensor, boxes: Tensor) -> Tensor:
    """Pixels -> box-normalised coordinates: ``(p - box[:2]) / (box[2:] - box[:2])``.

    Args:
        points (Tensor): (B, N, 2) pixels.
        boxes (Tensor): (B, 4) x1y1x2y2, same pixel frame.

    Returns:
        Tensor: (B, N, 2), (0, 0) = box top-left, (1, 1) = bottom-right.
    """
    return (points - boxes[:, None, :2]) / (boxes[:, None, 2:] - boxes[:, None, :2])


def crop_to_image(points: np.ndarray, crop_affine: np.ndarray, flip: bool,
                  image_width: int) -> np.ndarray:
    """Map crop pixels back to original-image pixels.

    Inverts the 2x3 ``crop_affine`` (image -> crop), then, when ``flip``, undoes the mirror
    with ``x = W - 1 - x`` (the reference hard-coded W = 640).

    Args:
        points (np.ndarray): (M, 2) crop pixels.
        crop_affine (np.ndarray): (2, 3) affine, (possibly mirrored) image -> crop.
        flip (bool): The image was mirrored before the crop.
        image_width (int): W of the original image, pixels.

    Returns:
        np.ndarray: (M, 2) float64 original-image pixels.
    """
    affine = np.concatenate([np.asarray(crop_affine, np.float64).reshape(2, 3),
                             [[0.0, 0.0, 1.0]]])
    inv = np.linalg.inv(affine)
    out = np.asarray(points, np.float64) @ inv[:2, :2].T + inv[:2, 2]
    if flip:
        out[:, 0] = image_width - 1 - out[:, 0]
    return out


@MODELS.register_module()
class HFLNet(BaseModel):
    """HFL-Net: two-stream trunk, hand/object interaction, MANO hand head and object votes.

    Data flow (``forward_raw``): backbone -> DualFPN (P2_hand, P2_obj) -> four RoIs -> object
    branch first (hand-to-object fusion, object head), then hand branch (object-to-hand
    fusion, hand head), in the reference's order.

    Args:
        backbone, neck, roi_extractor, obj_to_hand_fusion, hand_to_obj_fusion, hand_head,
            obj_head (dict): Configs built with ``MODELS.build``.
        data_preprocessor (dict, optional): For reference parity an ``ImgDataPreprocessor``
            with mean 0, std 255, ``bgr_to_rgb=True`` (input in [0, 1], RGB).
        train_cfg (dict, optional): ``check_finite`` (bool, default True): raise
            ``FloatingPointError`` naming the loss when a loss is NaN/inf. It costs one
            host-device sync per step (MMEngine's logging already syncs on the losses every
            iteration, so the extra cost is small); set False to skip it.
        test_cfg (dict, optional): ``vote_topk`` (10), ``vote_conf_thr`` (0.5),
            ``pnp_min_points`` (6): PnP vote selection (reference ``bestCnt`` etc.).
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self, backbone: dict, neck: dict, roi_extractor: dict,
                 obj_to_hand_fusion: dict, hand_to_obj_fusion: dict, hand_head: dict,
                 obj_head: dict, data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.roi_extractor = MODELS.build(roi_extractor)
        self.obj_to_hand_fusion = MODELS.build(obj_to_hand_fusion)
        self.hand_to_obj_fusion = MODELS.build(hand_to_obj_fusion)
        self.hand_head = MODELS.build(hand_head)
        self.obj_head = MODELS.build(obj_head)
        self.train_cfg = {'check_finite': True, **(train_cfg or {})}
        self.test_cfg = {'vote_topk': 10, 'vote_conf_thr': 0.5, 'pnp_min_points': 6,
                         **(test_cfg or {})}

    # ------------------------------------------------------------------ forward
    def forward_raw(self, images: Tensor, hand_boxes: Tensor,
                    obj_boxes: Tensor) -> Dict[str, Tensor]:
        """Run the network (no host-device sync).

        Args:
            images (Tensor): (B, 3, H, W) preprocessed crops.
            hand_boxes (Tensor): (B, 4) hand boxes x1y1x2y2, input pixels.
            obj_boxes (Tensor): (B, 4) object boxes x1y1x2y2, input pixels.

        Returns:
            dict of tensors:

            - ``hand_joints2d`` (B, 21, 2): soft-argmax joints normalised to the hand box
              ((0, 0) top-left, (1, 1) bottom-right); ``hand_joints2d_px`` (B, 21, 2) the same
              in input (crop) pixels; ``hand_heatmaps`` (B, 21, S, S).
            - ``hand_verts`` (B, 778, 3), ``hand_joints`` (B, 21, 3): metres, wrist-centred,
              simple joint order.
            - ``mano_pose_rotmat`` (B, 16, 3, 3), ``mano_pose_aa`` (B, 48), ``mano_betas``
              (B, 10).
            - ``obj_vote_x``, ``obj_vote_y`` (B, S, S, 21): votes normalised to the object
              box; ``obj_vote_conf`` (B, S, S, 21) in (0, 1).
        """
        hand_preds, obj_preds = self._run(images, hand_boxes, obj_boxes)
        return self._format(hand_preds, obj_preds, hand_boxes)

    def _run(self, images: Tensor, hand_boxes: Tensor, obj_boxes: Tensor):
        """Network forward; returns the raw output dicts of the hand and object heads."""
        p2_hand, p2_obj = self.neck(self.backbone(images))
        rois = self.roi_extractor(p2_hand, p2_obj, hand_boxes, obj_boxes)
        obj_preds = self.obj_head(self.hand_to_obj_fusion(rois['obj'], rois['inter']))
        hand_preds = self.hand_head(self.obj_to_hand_fusion(rois['hand'], rois['obj_in_hand']))
        return hand_preds, obj_preds

    @staticmethod
    def _format(hand_preds: Dict[str, Tensor], obj_preds: Dict[str, Tensor],
                hand_boxes: Tensor) -> Dict[str, Tensor]:
        """Flat ``forward_raw`` dict from the two heads' outputs."""
        out = dict(hand_joints2d=hand_preds['joints2d_norm'],
                   hand_heatmaps=hand_preds['heatmaps'])
        for key in ('hand_verts', 'hand_joints', 'mano_pose_rotmat', 'mano_pose_aa',
                    'mano_betas'):
            out[key] = hand_preds[key]
        out['hand_joints2d_px'] = box_normalised_to_pixels(out['hand_joints2d'], hand_boxes)
        out.update(obj_preds)
        return out

    def forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList]:
        """MMEngine entry point.

        Args:
            inputs (Tensor): (B, 3, H, W) preprocessed images.
            data_samples (list[HandObjectDataSample]): With ``gt_instances.hand_bboxes`` and
                ``obj_bboxes`` (always), plus the training targets for ``'loss'`` and
                ``obj_kps3d``/metainfo for ``'predict'``.
            mode (str): ``'loss'`` -> dict of losses; ``'predict'`` -> the data samples with
                ``pred_instances``; ``'tensor'`` -> :meth:`forward_raw`'s dict.
        """
        if data_samples is None:
            raise ValueError('HFLNet needs data_samples carrying gt_instances.hand_bboxes and '
                             'obj_bboxes in every mode')
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            hand_boxes, obj_boxes = self._boxes(inputs, data_samples)
            return self.forward_raw(inputs, hand_boxes, obj_boxes)
        raise ValueError(f"HFLNet.forward: mode must be 'loss', 'predict' or 'tensor', "
                         f'got {mode!r}')

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _gather(data_samples: SampleList, field: str, device: torch.device) -> Tensor:
        """Concatenate ``gt_instances.<field>`` (each (1, ...)) of a batch -> (B, ...)."""
        values = []
        for i, sample in enumerate(data_samples):
            gt = getattr(sample, '_gt_instances', None)
            if gt is None or field not in gt:
                raise KeyError(f'HFLNet: data_samples[{i}].gt_instances has no {field!r}; '
                               'see mmhandobj/structures/hand_object_data_sample.py')
            values.append(torch.as_tensor(gt.get(field)))
        return torch.cat(values).to(device=device, dtype=torch.float32)

    def _boxes(self, inputs: Tensor, data_samples: SampleList):
        hand_boxes = self._gather(data_samples, 'hand_bboxes', inputs.device)
        obj_boxes = self._gather(data_samples, 'obj_bboxes', inputs.device)
        return hand_boxes, obj_boxes

    # ------------------------------------------------------------------ loss
    def loss(self, inputs: Tensor, data_samples: SampleList) -> Dict[str, Tensor]:
        """Reference losses of both heads.

        Targets from ``gt_instances``: ``joints2d`` and ``obj_kps2d`` (crop pixels) are
        normalised to the hand and object boxes; ``mano_pose`` (B, 48), ``mano_shape``
        (B, 10), ``obj_mask`` (B, 32, 32).

        Returns:
            dict: The hand head's and object head's loss dicts merged.

        Raises:
            ValueError: Degenerate boxes.
            FloatingPointError: A non-finite loss (when ``train_cfg.check_finite``).
        """
        device = inputs.device
        hand_boxes, obj_boxes = self._boxes(inputs, data_samples)
        validate_boxes(hand_boxes, 'gt_instances.hand_bboxes')
        validate_boxes(obj_boxes, 'gt_instances.obj_bboxes')
        hand_preds, obj_preds = self._run(inputs, hand_boxes, obj_boxes)
        gather = lambda field: self._gather(data_samples, field, device)  # noqa: E731
        losses = dict(self.hand_head.loss(
            hand_preds,
            joints2d_norm=normalise_to_box(gather('joints2d'), hand_boxes),
            mano_pose=gather('mano_pose'), mano_shape=gather('mano_shape')))
        losses.update(self.obj_head.loss(
            obj_preds, normalise_to_box(gather('obj_kps2d'), obj_boxes), gather('obj_mask')))
        if self.train_cfg['check_finite']:
            self._check_finite(losses, data_samples)
        return losses

    @staticmethod
    def _check_finite(losses: Dict[str, Tensor], data_samples: SampleList) -> None:
        """Raise ``FloatingPointError`` naming every non-finite loss (one sync if all fine).

        The message names the epoch and iteration (1-based, from MMEngine's message hub when a
        runner trains) and the batch's image paths.
        """
        total = sum(v.sum() for k, v in losses.items() if 'loss' in k)
        if bool(torch.isfinite(total)):
            return
        bad = [k for k, v in losses.items() if not bool(torch.isfinite(v).all())]
        hub = MessageHub.get_current_instance()
        epoch, step = hub.get_info('epoch'), hub.get_info('iter')
        where = '' if epoch is None or step is None else (
            f' at epoch {epoch + 1}, iteration {step + 1}')
        paths = [sample.metainfo.get('img_path', '?') for sample in data_samples]
        raise FloatingPointError(f'HFLNet: non-finite loss value(s) in {bad}{where}; batch '
                                 f'images: {paths}')

    # ------------------------------------------------------------------ predict
    def predict(self, inputs: Tensor, data_samples: SampleList) -> SampleList:
        """Predict hand and object; the object pose is solved by EPnP-RANSAC per sample.

        Votes go crop-normalised -> crop pixels (object box) -> original-image pixels (inverse
        ``crop_affine``, then un-mirror when ``flip``), then PnP with ``ori_cam_intr`` and
        ``gt_instances.obj_kps3d`` (the object identity is given at test time, reference
        protocol). Fills ``pred_instances`` per the data-sample contract.
        """
        hand_boxes, obj_boxes = self._boxes(inputs, data_samples)
        validate_boxes(hand_boxes, 'gt_instances.hand_bboxes')
        validate_boxes(obj_boxes, 'gt_instances.obj_bboxes')
        out = self.forward_raw(inputs, hand_boxes, obj_boxes)
        cfg = self.test_cfg
        selected = select_votes(out['obj_vote_x'], out['obj_vote_y'], out['obj_vote_conf'],
                                topk=cfg['vote_topk'], conf_thr=cfg['vote_conf_thr'])
        best = self._best_votes(out)
        votes_px = [box_normalised_to_pixels(points, box).cpu().numpy()
                    for (points, _), box in zip(selected, obj_boxes)]
        best_px = box_normalised_to_pixels(best, obj_boxes).cpu().numpy()
        host = {k: out[k].detach().float().cpu().numpy()
                for k in ('hand_joints', 'hand_verts', 'hand_joints2d_px', 'mano_pose_aa',
                          'mano_betas')}
        for i, sample in enumerate(data_samples):
            meta = sample.metainfo
            for key in ('crop_affine', 'ori_shape', 'ori_cam_intr'):
                if key not in meta:
                    raise KeyError(f'HFLNet.predict: data_samples[{i}].metainfo lacks {key!r}')
            flip = bool(meta.get('flip', False))
            width = int(meta['ori_shape'][1])
            p2d = crop_to_image(votes_px[i], meta['crop_affine'], flip, width)
            kps3d = self._gather([sample], 'obj_kps3d', torch.device('cpu'))[0].numpy()
            rot, trans, _ = solve_object_pose(
                p2d, kps3d[selected[i][1].cpu().numpy()], meta['ori_cam_intr'],
                min_points=cfg['pnp_min_points'])
            pred = InstanceData()
            pred.hand_joints3d = host['hand_joints'][i:i + 1]
            pred.hand_verts3d = host['hand_verts'][i:i + 1]
            pred.hand_joints2d = host['hand_joints2d_px'][i:i + 1]
            pred.mano_pose = host['mano_pose_aa'][i:i + 1]
            pred.mano_shape = host['mano_betas'][i:i + 1]
            pred.obj_rot = rot[None].astype(np.float32)
            pred.obj_trans = trans[None].astype(np.float32)
            pred.obj_kps2d = crop_to_image(best_px[i], meta['crop_affine'], flip,
                                           width)[None].astype(np.float32)
            sample.pred_instances = pred
        return data_samples

    @staticmethod
    def _best_votes(out: Dict[str, Tensor]) -> Tensor:
        """Most confident vote of each keypoint: (B, K, 2), object-box-normalised."""
        conf = out['obj_vote_conf'].flatten(1, 2)
        idx = conf.argmax(dim=1, keepdim=True)
        vx = out['obj_vote_x'].flatten(1, 2).gather(1, idx)[:, 0]
        vy = out['obj_vote_y'].flatten(1, 2).gather(1, idx)[:, 0]
        return torch.stack([vx, vy], dim=-1)

