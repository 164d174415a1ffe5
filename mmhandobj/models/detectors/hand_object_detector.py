"""Hand/object detector: torchvision's FCOS, RetinaNet or Faster R-CNN under MMEngine."""
from collections import OrderedDict
from functools import partial
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torchvision
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmengine.structures import BaseDataElement, InstanceData
from torch import Tensor, nn
from torchvision.models.detection import FCOS, FasterRCNN, RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.fcos import FCOSHead
from torchvision.models.detection.retinanet import RetinaNetHead
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool, LastLevelP6P7

from mmhandobj.registry import MODELS

SampleList = List[BaseDataElement]
ARCHS = ('fcos', 'retinanet', 'faster_rcnn')
RESNETS = ('resnet18', 'resnet34', 'resnet50', 'resnet101')
MOBILENETS = ('mobilenet_v3_small', 'mobilenet_v3_large')
#: BatchNorm momentum of the trunks (PyTorch's default).
BN_MOMENTUM = 0.1
#: GroupNorm groups of torchvision's FCOS / RetinaNet heads.
HEAD_GROUPS = 32
#: Side of the dummy input used once at construction to measure the feature strides (pixels).
_PROBE_SIZE = 256
#: Anchor side per feature stride: FCOS uses the stride itself (its scale ranges derive from
#: it), RetinaNet 4 strides (x 2^0, 2^(1/3), 2^(2/3)), Faster R-CNN 8 strides (torchvision's
#: defaults: 32 px at stride 4 for Faster R-CNN, 32 px at stride 8 for RetinaNet).
_ANCHOR_PER_STRIDE = {'fcos': 1, 'retinanet': 4, 'faster_rcnn': 8}


def _block_strides(features: nn.Sequential) -> List[int]:
    """Output stride of every block of a MobileNet ``features`` stack (dummy forward)."""
    strides = []
    with torch.no_grad():
        x = torch.zeros(1, 3, _PROBE_SIZE, _PROBE_SIZE)
        was_training = features.training
        features.eval()
        for block in features:
            x = block(x)
            strides.append(_PROBE_SIZE // x.shape[-1])
        features.train(was_training)
    return strides


def _block_channels(block: nn.Module) -> int:
    """Output channels of a MobileNet block (its last convolution)."""
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def _body_and_layers(name: str, returned_layers: Optional[Sequence[int]]
                     ) -> Tuple[nn.Module, Dict[str, str], List[int]]:
    """A torchvision classification trunk (no weights) and the layers the FPN reads."""
    if name in RESNETS:
        norm = partial(nn.BatchNorm2d, momentum=BN_MOMENTUM)
        net = getattr(torchvision.models, name)(weights=None, norm_layer=norm)
        layers = list(returned_layers or (2, 3, 4))
        if not set(layers) <= {1, 2, 3, 4}:
            raise ValueError(f'backbone.returned_layers for {name} must be in 1..4, got {layers}')
        body = nn.Sequential(OrderedDict(
            (key, getattr(net, key)) for key in
            ('conv1', 'bn1', 'relu', 'maxpool', 'layer1', 'layer2', 'layer3', 'layer4')))
        last = [getattr(net, f'layer{i}')[-1] for i in layers]
        channels = [(blk.bn3 if hasattr(blk, 'bn3') else blk.bn2).num_features for blk in last]
        return body, {f'layer{i}': str(k) for k, i in enumerate(layers)}, channels
    if name in MOBILENETS:
        # torchvision's MobileNetV3 BatchNorm momentum (0.01) is tuned for fine-tuning; from
        # scratch the running statistics would trail the training ones for thousands of steps.
        norm = partial(nn.BatchNorm2d, eps=0.001, momentum=BN_MOMENTUM)
        features = getattr(torchvision.models, name)(weights=None, norm_layer=norm).features
        strides = _block_strides(features)
        layers = list(returned_layers or (8, 16, 32))
        if not set(layers) <= set(strides):
            raise ValueError(f'backbone.returned_layers for {name} are output strides, some of '
                             f'{sorted(set(strides))}; got {layers}')
        # The last block at each stride: the finest map of that resolution.
        last = [max(i for i, s in enumerate(strides) if s == stride) for stride in layers]
        channels = [_block_channels(features[i]) for i in last]
        return features, {str(i): str(k) for k, i in enumerate(last)}, channels
    raise ValueError(f'backbone.name must be one of {RESNETS + MOBILENETS}, got {name!r}')


def build_fpn_backbone(name: str = 'resnet18', fpn_channels: int = 256,
                       returned_layers: Optional[Sequence[int]] = None,
                       extra_levels: str = 'p6p7', checkpoint: Optional[str] = None
                       ) -> BackboneWithFPN:
    """A torchvision trunk with an FPN, randomly initialised unless ``checkpoint`` is given.

    Args:
        name: ``'resnet18'``/``34``/``50``/``101`` or ``'mobilenet_v3_small'``/``'_large'``.
        fpn_channels: FPN output channels.
        returned_layers: Trunk stages the FPN reads (ResNet: layers 1..4, default 2, 3, 4;
            MobileNetV3: output strides, default 8, 16, 32).
        extra_levels: ``'p6p7'`` (two strided convs on P5, FCOS/RetinaNet) or ``'pool'``
            (a max-pooled extra level, Faster R-CNN).
        checkpoint: Optional local file with a torchvision classification ``state_dict`` of
            the same trunk (e.g. ImageNet weights), loaded non-strictly; never downloaded.

    Returns:
        ``BackboneWithFPN`` whose forward gives an ``OrderedDict`` of ``fpn_channels`` maps.
    """
    body, return_layers, channels = _body_and_layers(name, returned_layers)
    if checkpoint is not None:
        state = torch.load(checkpoint, map_location='cpu', weights_only=True)
        state = state.get('state_dict', state)
        prefix = 'features.' if name in MOBILENETS else ''
        state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        missing, _ = body.load_state_dict(state, strict=False)
        print_log(f'backbone {name}: loaded {checkpoint} ({len(missing)} trunk keys missing)',
                  logger='current')
    if extra_levels == 'p6p7':
        extra = LastLevelP6P7(fpn_channels, fpn_channels)
    elif extra_levels == 'pool':
        extra = LastLevelMaxPool()
    else:
        raise ValueError(f"extra_levels must be 'p6p7' or 'pool', got {extra_levels!r}")
    return BackboneWithFPN(body, return_layers, channels, fpn_channels, extra_blocks=extra)


def feature_strides(backbone: nn.Module) -> List[int]:
    """Stride (input pixels per feature cell) of each output map, measured on a dummy input."""
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        feats = backbone(torch.zeros(1, 3, _PROBE_SIZE, _PROBE_SIZE))
    backbone.train(was_training)
    return [_PROBE_SIZE // f.shape[-1] for f in feats.values()]


@MODELS.register_module()
class HandObjectDetector(BaseModel):
    """Detector of the right hand, the left hand and the YCB objects.

    A torchvision detection model (``weights=None``: nothing is downloaded) built on
    :func:`build_fpn_backbone`. Labels are the category ids of
    :mod:`mmhandobj.structures.detection_classes` (0 = background); the config states their
    number, as in mmdet.
    torchvision resizes every image internally (shorter side ``min_size``, longer side at most
    ``max_size``) and normalises it with ImageNet mean/std; boxes come back in pixels of the
    images given to :meth:`forward`.

    Args:
        arch: ``'fcos'``, ``'retinanet'`` or ``'faster_rcnn'``.
        backbone: Arguments of :func:`build_fpn_backbone` (``name``, ``fpn_channels``,
            ``returned_layers``, ``checkpoint``).
        head_convs: Convolutions of each FCOS / RetinaNet head branch (torchvision: 4).
        min_size: Shorter image side after torchvision's internal resize (pixels).
        max_size: Upper bound of the longer side after the resize (pixels).
        score_thresh: Minimum score of a returned detection.
        nms_thresh: IoU of the per-class non-maximum suppression.
        detections_per_img: Maximum detections returned per image.
        num_classes: Classes including the background: ``NUM_DET_CLASSES`` (24) of
            :mod:`mmhandobj.structures.detection_classes` for the hand/object table.
        data_preprocessor: MMEngine preprocessor; it must give RGB images in [0, 1]
            (``ImgDataPreprocessor`` with mean 0, std 255, ``bgr_to_rgb=True``).
        init_cfg: MMEngine init config.
    """

    def __init__(self, arch: str = 'fcos', backbone: Optional[dict] = None,
                 head_convs: int = 4, min_size: int = 480, max_size: int = 640,
                 score_thresh: float = 0.05, nms_thresh: float = 0.5,
                 detections_per_img: int = 20, *, num_classes: int,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if arch not in ARCHS:
            raise ValueError(f'arch must be one of {ARCHS}, got {arch!r}')
        self.arch = arch
        backbone = dict(backbone or {})
        # init_model() clears backbone.init_cfg before loading a checkpoint (for every model);
        # this trunk's optional initialisation is backbone.checkpoint instead.
        backbone.pop('init_cfg', None)
        channels = backbone.get('fpn_channels', 256)
        if arch != 'faster_rcnn' and channels % HEAD_GROUPS:
            raise ValueError(f'{arch}: backbone.fpn_channels must be a multiple of '
                             f'{HEAD_GROUPS} (the head\'s GroupNorm groups), got {channels}')
        backbone.setdefault('extra_levels', 'pool' if arch == 'faster_rcnn' else 'p6p7')
        fpn = build_fpn_backbone(**backbone)
        strides = feature_strides(fpn)
        base = [_ANCHOR_PER_STRIDE[arch] * s for s in strides]
        common = dict(min_size=min_size, max_size=max_size)
        if arch == 'fcos':
            anchors = AnchorGenerator(tuple((b,) for b in base), ((1.0,),) * len(base))
            head = FCOSHead(fpn.out_channels, 1, num_classes, num_convs=head_convs)
            self.detector = FCOS(fpn, num_classes, anchor_generator=anchors, head=head,
                                 score_thresh=score_thresh, nms_thresh=nms_thresh,
                                 detections_per_img=detections_per_img, **common)
        elif arch == 'retinanet':
            sizes = tuple(tuple(b * 2 ** (k / 3) for k in range(3)) for b in base)
            anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(base))
            head = RetinaNetHead(fpn.out_channels, anchors.num_anchors_per_location()[0],
                                 num_classes)
            if head_convs != 4:
                print_log('RetinaNet: torchvision builds 4 head convs; head_convs ignored',
                          logger='current', level=30)
            self.detector = RetinaNet(fpn, num_classes, anchor_generator=anchors, head=head,
                                      score_thresh=score_thresh, nms_thresh=nms_thresh,
                                      detections_per_img=detections_per_img, **common)
        else:
            anchors = AnchorGenerator(tuple((b,) for b in base), ((0.5, 1.0, 2.0),) * len(base))
            # RoIs are pooled from the FPN levels, not the max-pooled extra one (torchvision).
            roi_pool = MultiScaleRoIAlign([str(k) for k in range(len(base) - 1)], 7, 2)
            self.detector = FasterRCNN(fpn, num_classes, rpn_anchor_generator=anchors,
                                       box_roi_pool=roi_pool,
                                       box_score_thresh=score_thresh, box_nms_thresh=nms_thresh,
                                       box_detections_per_img=detections_per_img, **common)
        self.num_classes = num_classes

    @staticmethod
    def _images(inputs: Union[Tensor, Sequence[Tensor]]) -> List[Tensor]:
        images = list(inputs)
        for i, img in enumerate(images):
            if img.ndim != 3 or img.shape[0] != 3 or not img.is_floating_point():
                raise ValueError(f'HandObjectDetector: inputs[{i}] must be a float (3, H, W) '
                                 f'RGB image in [0, 1], got {img.dtype} {tuple(img.shape)}')
        return images

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]],
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], SampleList, Tensor]:
        """Run in MMEngine's modes.

        Args:
            inputs: (B, 3, H, W) float RGB in [0, 1] (or a list of (3, H, W)).
            data_samples: With ``gt_instances.bboxes`` ((N, 4) x1y1x2y2 pixels of ``inputs``)
                and ``gt_instances.labels`` ((N,) category ids) for ``'loss'``.
            mode: ``'loss'`` (dict of losses; needs ``model.train()``), ``'predict'`` (fills
                ``pred_instances``) or ``'tensor'`` (the FPN maps of the first level).

        Returns:
            Losses, the data samples, or a (B, C, h, w) tensor.
        """
        images = self._images(inputs)
        if mode == 'loss':
            return self.loss(images, data_samples)
        if mode == 'predict':
            return self.predict(images, data_samples)
        if mode == 'tensor':
            image_list, _ = self.detector.transform(images)
            return next(iter(self.detector.backbone(image_list.tensors).values()))
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, images: List[Tensor], data_samples: SampleList) -> Dict[str, Tensor]:
        """torchvision's training losses, named ``loss_<name>`` for MMEngine."""
        if not self.detector.training:
            raise RuntimeError('HandObjectDetector: mode="loss" needs model.train() (the '
                               'torchvision detector returns detections in eval mode)')
        if data_samples is None:
            raise ValueError('HandObjectDetector: mode="loss" needs data_samples with '
                             'gt_instances.bboxes and gt_instances.labels')
        targets = []
        for img, sample in zip(images, data_samples):
            gt = sample.gt_instances
            targets.append(dict(boxes=gt.bboxes.to(img.device, torch.float32).reshape(-1, 4),
                                labels=gt.labels.to(img.device, torch.int64).reshape(-1)))
        losses = self.detector(images, targets)
        return {(k if k.startswith('loss') else f'loss_{k}'): v for k, v in losses.items()}

    def predict(self, images: List[Tensor], data_samples: Optional[SampleList]) -> SampleList:
        """Detections as ``pred_instances``: ``bboxes`` ((M, 4) x1y1x2y2 pixels of the input
        images), ``scores`` ((M,)), ``labels`` ((M,) category ids), best first."""
        was_training = self.detector.training
        self.detector.eval()
        with torch.no_grad():
            detections = self.detector(images)
        self.detector.train(was_training)
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in images]
        for sample, det in zip(data_samples, detections):
            order = torch.argsort(det['scores'], descending=True)
            pred = InstanceData()
            pred.bboxes = det['boxes'][order].detach().cpu()
            pred.scores = det['scores'][order].detach().cpu()
            pred.labels = det['labels'][order].detach().cpu()
            sample.pred_instances = pred
        return data_samples
