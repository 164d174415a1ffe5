"""HFL-Net's ResNet trunk; which stages the hand and object streams share is an option."""
import copy
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn

from mmhandobj.registry import MODELS

#: (c2, c3, c4, c5) of one stream.
StreamFeatures = Tuple[Tensor, Tensor, Tensor, Tensor]

#: Stage indices of `split_stages`: 0 the stem (conv1/bn1/act/maxpool), 1-4 layer1-layer4.
STAGE_NAMES = ('stem', 'layer1', 'layer2', 'layer3', 'layer4')

#: HFL-Net's split: layer2 and layer3 per stream; stem, layer1 and layer4 shared.
HFL_SPLIT_STAGES = (2, 3)


class BasicBlock(nn.Module):
    """ResNet basic block (two 3x3 convs), used by depths 18 and 34.

    Args:
        in_channels (int): Input channels.
        planes (int): Channels of both 3x3 convs (output = ``planes * expansion``).
        stride (int): Stride of the first 3x3 conv.
        downsample (nn.Module, optional): Projection of the identity branch.
        act_cfg (dict): Activation config (mmcv ``build_activation_layer``).
    """

    expansion = 1

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.act = build_activation_layer(act_cfg)
        self.downsample = downsample

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`."""
        return [('conv1', 'bn1'), ('conv2', 'bn2')]

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + identity)


class Bottleneck(nn.Module):
    """torchvision-v1.5 bottleneck (stride on the 3x3 conv), expansion 4.

    Args:
        in_channels (int): Input channels.
        planes (int): Width of the 1x1/3x3 convs (output = ``planes * 4``).
        stride (int): Stride of the 3x3 conv.
        downsample (nn.Module, optional): Projection of the identity branch.
        act_cfg (dict): Activation config (mmcv ``build_activation_layer``).
    """

    expansion = 4

    def __init__(self, in_channels: int, planes: int, stride: int = 1,
                 downsample: Optional[nn.Module] = None,
                 act_cfg: Optional[dict] = None) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.act = build_activation_layer(act_cfg)
        self.downsample = downsample

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`."""
        return [('conv1', 'bn1'), ('conv2', 'bn2'), ('conv3', 'bn3')]

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.act(self.bn1(self.conv1(x)))
        out = self.act(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.act(out + identity)


def _make_res_layer(block: type, in_channels: int, planes: int, num_blocks: int, stride: int,
                    act_cfg: dict) -> nn.Sequential:
    """Stack ``num_blocks`` residual blocks; the first one changes stride/channels."""
    out_channels = planes * block.expansion
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 1, stride, bias=False),
            nn.BatchNorm2d(out_channels))
    layers = [block(in_channels, planes, stride, downsample, act_cfg)]
    layers += [block(out_channels, planes, 1, None, act_cfg) for _ in range(num_blocks - 1)]
    return nn.Sequential(*layers)


def _stage_of_torchvision_key(key: str) -> int:
    """Stage index (see :data:`STAGE_NAMES`) of a torchvision ResNet key (``conv1.*`` -> 0)."""
    head = key.split('.', 1)[0]
    return 0 if head in ('conv1', 'bn1') else int(head[len('layer'):])


@MODELS.register_module()
class HFLResNet(BaseModule):
    """ResNet trunk of HFL-Net (the authors' ``networks/backbone_share.FPN``) with a choice of
    which stages are shared by the hand and the object stream.

    ``split_stages`` names the stages that exist once per stream (stage 0 is the stem
    conv1/bn1/act/maxpool, stages 1-4 are ``layer1``-``layer4``); every other stage is shared.
    Once the streams have diverged, a shared stage runs once on each stream (its BN running
    statistics see both streams, ``docs/reference_parity.md`` R3); while they are still
    identical it runs once. Module names: a shared stage keeps torchvision's name
    (``conv1``/``bn1``, ``layerN``), a split one gets ``_hand`` / ``_obj`` (``conv1_hand``,
    ``layer2_obj``, ...).
    Both copies of a split stage start from the same weights.

    ==================  ==================  =========================================
    ``split_stages``    variant             shared
    ==================  ==================  =========================================
    ``(2, 3)``          HFL-Net (default)   stem, layer1, layer4
    ``()``              single-stream       everything (the streams are one tensor)
    ``(0, 1, 2, 3, 4)`` two-stream          nothing (two complete ResNets)
    ==================  ==================  =========================================

    Convs have no bias; every activation is ``act_cfg`` (LeakyReLU 0.01 as the reference,
    which replaced every ReLU of torchvision's ResNet; R2).

    Channel counts (depth 50 / 18, 34, with ``base_channels=64``): C2 256 / 64, C3 512 / 128,
    C4 1024 / 256, C5 2048 / 512 (all scale with ``base_channels``); strides 4, 8, 16, 32
    (an input of 256x256 gives 64, 32, 16, 8).

    Args:
        depth (int): 18, 34 (basic blocks) or 50 (bottlenecks).
        base_channels (int): Width of the stem and of layer1's convs (64 in every torchvision
            ResNet); the stages are ``base_channels * (1, 2, 4, 8)`` wide. Narrower trunks
            (e.g. 32) are for quick CPU runs; ImageNet weights need 64.
        split_stages (Sequence[int]): Stages with one copy per stream, from 0 (stem) to 4
            (layer4). Default :data:`HFL_SPLIT_STAGES` = ``(2, 3)``.
        act_cfg (dict): Activation used everywhere. Default LeakyReLU(0.01).
        out_type (str): ``'tuple'`` (default) or ``'dict'``; see :meth:`forward`.
        init_cfg (dict, optional): ``None`` -> kaiming-normal (fan_out) convs, BN 1/0.
            ``dict(type='Pretrained', checkpoint='torchvision://resnet50' | path)`` loads a
            torchvision ImageNet ResNet (a split stage gets the weights in both streams;
            ``fc`` is dropped). Nothing is downloaded unless such a config asks for it.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
    }

    def __init__(self, depth: int = 50, base_channels: int = 64,
                 split_stages: Sequence[int] = HFL_SPLIT_STAGES,
                 act_cfg: Optional[dict] = None, out_type: str = 'tuple',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'HFLResNet: depth must be one of {sorted(self.arch_settings)}, '
                           f'got {depth}')
        if out_type not in ('tuple', 'dict'):
            raise ValueError(f"HFLResNet: out_type must be 'tuple' or 'dict', got {out_type!r}")
        if base_channels < 1:
            raise ValueError(f'HFLResNet: base_channels must be positive, got {base_channels}')
        bad = [s for s in split_stages if s not in range(len(STAGE_NAMES))]
        if bad:
            raise ValueError(f'HFLResNet: split_stages must be stage indices 0 (stem) to 4 '
                             f'(layer4), got {list(split_stages)}')
        if act_cfg is None:
            act_cfg = dict(type='LeakyReLU', negative_slope=0.01, inplace=True)
        self.depth = depth
        self.out_type = out_type
        self.split_stages = tuple(sorted(set(split_stages)))
        block, stage_blocks = self.arch_settings[depth]
        self.base_channels = base_channels
        widths = tuple(base_channels * m for m in (1, 2, 4, 8))
        self.out_channels = tuple(w * block.expansion for w in widths)

        self.act = build_activation_layer(act_cfg)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = (base_channels, ) + self.out_channels[:3]
        strides = (1, 2, 2, 2)
        # Hand/shared modules first and the object copies last: the registration (and so the
        # random-init) order of the default split is the one of the original two-stream trunk.
        obj_copies = {}
        for stage in range(len(STAGE_NAMES)):
            if stage == 0:
                modules = dict(conv1=nn.Conv2d(3, base_channels, 7, 2, 3, bias=False),
                               bn1=nn.BatchNorm2d(base_channels))
            else:
                i = stage - 1
                modules = {f'layer{stage}': _make_res_layer(
                    block, in_ch[i], widths[i], stage_blocks[i], strides[i], act_cfg)}
            for name, module in modules.items():
                if stage in self.split_stages:
                    self.add_module(f'{name}_hand', module)
                    obj_copies[f'{name}_obj'] = copy.deepcopy(module)
                else:
                    self.add_module(name, module)
        for name, module in obj_copies.items():
            self.add_module(name, module)

    @staticmethod
    def _stage_modules(stage: int) -> List[str]:
        """Names of the modules of ``stage`` (without the stream suffix)."""
        return ['conv1', 'bn1'] if stage == 0 else [f'layer{stage}']

    def init_weights(self) -> None:
        """Kaiming init (or torchvision weights), then copy each split stage's hand weights to
        the object stream."""
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            if self.base_channels != 64:
                raise ValueError('HFLResNet: torchvision ImageNet weights need base_channels=64, '
                                 f'got {self.base_channels}')
            self._load_torchvision(cfg['checkpoint'])
        elif cfg is not None:
            super().init_weights()
        else:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        for stage in self.split_stages:
            for name in self._stage_modules(stage):
                getattr(self, f'{name}_obj').load_state_dict(
                    getattr(self, f'{name}_hand').state_dict())
        self._is_init = True

    def _load_torchvision(self, checkpoint: str) -> None:
        """Load a torchvision ResNet state dict (``torchvision://resnetXX`` or a file path)."""
        ckpt = _load_checkpoint(checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        mapped = {}
        for key, value in state.items():
            if key.startswith('fc.'):
                continue
            if _stage_of_torchvision_key(key) in self.split_stages:
                name, rest = key.split('.', 1)
                mapped[f'{name}_hand.{rest}'] = value
                mapped[f'{name}_obj.{rest}'] = value
            else:
                mapped[key] = value
        missing, unexpected = self.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise KeyError(f'HFLResNet: checkpoint {checkpoint!r} is not a torchvision ResNet-'
                           f'{self.depth}: missing {missing}, unexpected {unexpected}')

    def _run_stage(self, stage: int, suffix: str, x: Tensor) -> Tensor:
        """Stage ``stage`` of the stream named by ``suffix`` ('' shared, '_hand', '_obj')."""
        if stage == 0:
            conv, bn = getattr(self, f'conv1{suffix}'), getattr(self, f'bn1{suffix}')
            return self.maxpool(self.act(bn(conv(x))))
        return getattr(self, f'layer{stage}{suffix}')(x)

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`
        (one stem pair, or one per stream when the stem is split)."""
        suffixes = ('_hand', '_obj') if 0 in self.split_stages else ('',)
        return [(f'conv1{s}', f'bn1{s}') for s in suffixes]

    def forward(self, x: Tensor) -> Union[Tuple[StreamFeatures, StreamFeatures],
                                          Dict[str, Tensor]]:
        """Run both streams.

        Args:
            x (Tensor): Images (B, 3, H, W).

        Returns:
            ``((c2_hand, c3_hand, c4_hand, c5_hand), (c2_obj, ..., c5_obj))``, the layer1 to
            layer4 outputs of each stream at strides 4/8/16/32 (with channels
            :attr:`out_channels`). Outputs of stages before the first split stage are the
            same tensor in both tuples (with ``split_stages=()`` all of them). With
            ``out_type='dict'`` the same tensors under keys ``c2_hand``, ..., ``c5_obj``.
        """
        hand = obj = x
        hand_feats, obj_feats = [], []
        for stage in range(len(STAGE_NAMES)):
            if stage in self.split_stages:
                hand = self._run_stage(stage, '_hand', hand)
                obj = self._run_stage(stage, '_obj', obj)
            elif hand is obj:
                hand = obj = self._run_stage(stage, '', hand)
            elif self.training:  # BatchNorm statistics per stream, as the reference
                hand, obj = self._run_stage(stage, '', hand), self._run_stage(stage, '', obj)
            else:  # one call on both streams' images: the same values, larger products
                # (split without a size, so that an ONNX export keeps its batch free)
                both = self._run_stage(stage, '', torch.cat([hand, obj]))
                hand, obj = both.unflatten(0, (2, -1)).unbind(0)
            if stage > 0:
                hand_feats.append(hand)
                obj_feats.append(obj)
        if self.out_type == 'dict':
            out = {f'c{i + 2}_hand': f for i, f in enumerate(hand_feats)}
            out.update({f'c{i + 2}_obj': f for i, f in enumerate(obj_feats)})
            return out
        return tuple(hand_feats), tuple(obj_feats)

    def extra_repr(self) -> str:
        return (f'depth={self.depth}, base_channels={self.base_channels}, '
                f'split_stages={self.split_stages}, out_channels={self.out_channels}')
