"""HFL-Net (Lin et al., CVPR 2023): harmonious feature learning for hand-object pose."""
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmengine.logging import MessageHub
from mmengine.model import BaseModel
from mmengine.structures import InstanceData
from torch import Tensor

from mmhandobj.models.roi_extractors import validate_boxes
from mmhandobj.registry import MODELS
from mmhandobj.structures.geometry import pixels_to_box_normalised
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

SampleList = List[HandObjectDataSample]


def _build_optional(cfg: Optional[dict]):
    """``MODELS.build(cfg)``, or ``None`` when the block is switched off (``cfg`` None)."""
    return None if cfg is None else MODELS.build(cfg)


@MODELS.register_module()
class HFLNet(BaseModel):
    """HFL-Net: two-stream trunk, hand/object interaction, MANO hand head and object votes.

    Data flow (``forward_raw``): backbone -> DualFPN (P2_hand, P2_obj) -> four RoIs -> object
    branch first (hand-to-object fusion, object head), then hand branch (object-to-hand
    fusion, hand head), in the reference's order.

    Args:
        backbone, neck, roi_extractor, obj_to_hand_fusion, hand_to_obj_fusion, hand_head,
            obj_head (dict): Configs built with ``MODELS.build``. ``obj_to_hand_fusion`` or
            ``hand_to_obj_fusion`` may be ``None``: that interaction is switched off and the
            head reads its own RoI feature directly (the paper's ablations).
        data_preprocessor (dict, optional): For reference parity an ``ImgDataPreprocessor``
            with mean 0, std 255, ``bgr_to_rgb=True`` (input in [0, 1], RGB).
        train_cfg (dict, optional): ``check_finite`` (bool, default True): raise
            ``FloatingPointError`` naming the loss when a loss is NaN/inf. It costs one
            host-device sync per step (MMEngine's logging already syncs on the losses every
            iteration, so the extra cost is small); set False to skip it.
        test_cfg (dict, optional): ``vote_topk``, ``vote_conf_thr``, ``pnp_min_points``: PnP
            vote selection (reference ``bestCnt`` etc.), passed to the object head's
            ``predict``, which fills the keys left out from its defaults
            (:data:`~mmhandobj.models.heads.object_keypoint_head.DEFAULT_TEST_CFG`: 10, 0.5,
            6).
        init_cfg (dict, optional): MMEngine init config.
    """

    def __init__(self, backbone: dict, neck: dict, roi_extractor: dict,
                 obj_to_hand_fusion: Optional[dict], hand_to_obj_fusion: Optional[dict],
                 hand_head: dict, obj_head: dict, data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck)
        self.roi_extractor = MODELS.build(roi_extractor)
        self.obj_to_hand_fusion = _build_optional(obj_to_hand_fusion)
        self.hand_to_obj_fusion = _build_optional(hand_to_obj_fusion)
        self.hand_head = MODELS.build(hand_head)
        self.obj_head = MODELS.build(obj_head)
        self.train_cfg = {'check_finite': True, **(train_cfg or {})}
        self.test_cfg = dict(test_cfg or {})

    # ------------------------------------------------------------------ forward
    def forward_raw(self, images: Tensor, hand_boxes: Tensor,
                    obj_boxes: Tensor) -> Dict[str, Tensor]:
        """Run the network (no host-device sync).

        Args:
            images (Tensor): (B, 3, H, W) preprocessed crops.
            hand_boxes (Tensor): (B, 4) hand boxes x1y1x2y2, input pixels.
            obj_boxes (Tensor): (B, 4) object boxes x1y1x2y2, input pixels.

        Returns:
            The hand head's and the object head's output dicts merged (batched tensors; the
            names of the data-sample contract where it has the quantity):

            - ``hand_joints2d_boxnorm`` (B, 21, 2): soft-argmax joints normalised to the hand
              box ((0, 0) top-left, (1, 1) bottom-right); ``hand_joints2d_crop`` (B, 21, 2)
              the same in input (crop) pixels; ``hand_heatmaps`` (B, 21, S, S) and their
              ``hand_heatmap_logits``.
            - ``hand_verts3d`` (B, 778, 3), ``hand_joints3d`` (B, 21, 3): metres,
              wrist-centred, simple joint order.
            - ``mano_pose_rotmat`` (B, 16, 3, 3), ``mano_pose`` (B, 48) axis-angle,
              ``mano_shape`` (B, 10).
            - ``obj_vote_x``, ``obj_vote_y`` (B, S, S, 21): votes normalised to the object
              box; ``obj_vote_conf`` (B, S, S, 21) in (0, 1).
        """
        hand_preds, obj_preds = self._run(images, hand_boxes, obj_boxes)
        return {**hand_preds, **obj_preds}

    def _head_features(self, images: Tensor, hand_boxes: Tensor,
                       obj_boxes: Tensor) -> Tuple[Tensor, Tensor]:
        """Trunk, RoIs and fusion: the fused (hand, object) RoI features fed to the heads.

        The object feature is computed first, in the reference's order.
        """
        feats = self.backbone(images)
        windows, size = None, None
        if self.roi_extractor.uses_windows(images.device):
            size = self.neck.p2_size(feats)
            windows = self.roi_extractor.windows(hand_boxes, obj_boxes, size)
        p2_hand, p2_obj = self.neck(feats, windows)
        rois = self.roi_extractor(p2_hand, p2_obj, hand_boxes, obj_boxes, size)
        obj_feat, hand_feat = rois['obj'], rois['hand']
        if self.hand_to_obj_fusion is not None:
            obj_feat = self.hand_to_obj_fusion(obj_feat, rois['inter'])
        if self.obj_to_hand_fusion is not None:
            hand_feat = self.obj_to_hand_fusion(hand_feat, rois['obj_in_hand'])
        return hand_feat, obj_feat

    def _run(self, images: Tensor, hand_boxes: Tensor, obj_boxes: Tensor):
        """Network forward; returns the raw output dicts of the hand and object heads."""
        hand_feat, obj_feat = self._head_features(images, hand_boxes, obj_boxes)
        obj_preds = self.obj_head(obj_feat)
        hand_preds = self.hand_head(hand_feat, hand_boxes)
        return hand_preds, obj_preds

    def forward(self, inputs: Tensor, data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList]:
        """MMEngine entry point.

        Args:
            inputs (Tensor): (B, 3, H, W) preprocessed images.
            data_samples (list[HandObjectDataSample]): With ``gt_instances.hand_bboxes`` and
                ``obj_bboxes`` (always), plus the training targets for ``'loss'`` and, for
                ``'predict'``, metainfo ``crop_affine``/``flip``/``ori_shape``/``ori_cam_intr``
                and ``gt_instances.obj_kps3d`` (optional: without it no object pose).
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
            gt = sample.gt_instances if 'gt_instances' in sample else None
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

        Targets from ``gt_instances``: ``hand_joints2d_crop`` and ``obj_kps2d_crop`` are
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
            hand_joints2d_boxnorm=pixels_to_box_normalised(gather('hand_joints2d_crop'),
                                                           hand_boxes),
            mano_pose=gather('mano_pose'), mano_shape=gather('mano_shape')))
        losses.update(self.obj_head.loss(
            obj_preds, pixels_to_box_normalised(gather('obj_kps2d_crop'), obj_boxes),
            gather('obj_mask')))
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
        """Run the network; each head decodes its own outputs; merge into ``pred_instances``.

        :meth:`ObjectKeypointHead.predict <mmhandobj.models.heads.ObjectKeypointHead.predict>`
        gives the object 2D keypoints and pose (PnP with ``gt_instances.obj_kps3d``, the object
        identity given at test time), :meth:`HandMANOHead.predict
        <mmhandobj.models.heads.HandMANOHead.predict>` the hand; the fields are those of the
        data-sample contract (:mod:`mmhandobj.structures.hand_object_data_sample`).
        """
        hand_boxes, obj_boxes = self._boxes(inputs, data_samples)
        validate_boxes(hand_boxes, 'gt_instances.hand_bboxes')
        validate_boxes(obj_boxes, 'gt_instances.obj_bboxes')
        hand_feat, obj_feat = self._head_features(inputs, hand_boxes, obj_boxes)
        obj_preds = self.obj_head.predict(obj_feat, obj_boxes, data_samples, self.test_cfg)
        hand_preds = self.hand_head.predict(hand_feat, hand_boxes, data_samples)
        for sample, hand, obj in zip(data_samples, hand_preds, obj_preds):
            pred = InstanceData()
            for part in (hand, obj):
                for key, value in part.items():
                    pred.set_field(value, key)
            sample.pred_instances = pred
        return data_samples
