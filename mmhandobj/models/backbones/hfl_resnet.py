"""Two-stream ResNet of HFL-Net: shared stem/layer1/layer4, hand and object copies of layer2/3."""
import copy
from typing import Dict, List, Optional, Tuple, Union

from mmcv.cnn import build_activation_layer
from mmengine.model import BaseModule
from mmengine.runner.checkpoint import _load_checkpoint
from torch import Tensor, nn

from mmhandobj.registry import MODELS

StreamFeatures = Tuple[Tensor, Tensor, Tensor]


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


@MODELS.register_module()
class HFLResNet(BaseModule):
    """Two-stream ResNet trunk of HFL-Net (``networks/backbone_share.FPN`` of the authors).

    The stem (conv1/bn1/act/maxpool) and ``layer1`` are shared; ``layer2`` and ``layer3`` exist
    twice (``*_hand`` and ``*_obj``, both starting from the same weights); ``layer4`` is shared
    and run once on each stream, so its BN running statistics see both streams (reference quirk
    B9). Convs have no bias; every activation is ``act_cfg`` (LeakyReLU 0.01 as the reference,
    which replaced every ReLU of torchvision's ResNet).

    Channel counts (depth 50 / 18, 34, with ``base_channels=64``): C2 256 / 64, C3 512 / 128,
    C4 1024 / 256, C5 2048 / 512 (all scale with ``base_channels``); strides 4, 8, 16, 32
    (an input of 256x256 gives 64, 32, 16, 8).

    Args:
        depth (int): 18, 34 (basic blocks) or 50 (bottlenecks).
        base_channels (int): Width of the stem and of layer1's convs (64 in every torchvision
            ResNet); the stages are ``base_channels * (1, 2, 4, 8)`` wide. Narrower trunks
            (e.g. 32) are for quick CPU runs; ImageNet weights need 64.
        act_cfg (dict): Activation used everywhere. Default LeakyReLU(0.01).
        out_type (str): ``'tuple'`` (default) or ``'dict'``; see :meth:`forward`.
        init_cfg (dict, optional): ``None`` -> kaiming-normal (fan_out) convs, BN 1/0.
            ``dict(type='Pretrained', checkpoint='torchvision://resnet50' | path)`` loads a
            torchvision ImageNet ResNet (``layer2``/``layer3`` go to both streams; ``fc`` is
            dropped). Nothing is downloaded unless such a config asks for it.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
    }

    def __init__(self, depth: int = 50, base_channels: int = 64, act_cfg: Optional[dict] = None,
                 out_type: str = 'tuple', init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'HFLResNet: depth must be one of {sorted(self.arch_settings)}, '
                           f'got {depth}')
        if out_type not in ('tuple', 'dict'):
            raise ValueError(f"HFLResNet: out_type must be 'tuple' or 'dict', got {out_type!r}")
        if base_channels < 1:
            raise ValueError(f'HFLResNet: base_channels must be positive, got {base_channels}')
        if act_cfg is None:
            act_cfg = dict(type='LeakyReLU', negative_slope=0.01, inplace=True)
        self.depth = depth
        self.out_type = out_type
        block, stage_blocks = self.arch_settings[depth]
        self.base_channels = base_channels
        widths = tuple(base_channels * m for m in (1, 2, 4, 8))
        self.out_channels = tuple(w * block.expansion for w in widths)

        self.conv1 = nn.Conv2d(3, base_channels, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base_channels)
        self.act = build_activation_layer(act_cfg)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        in_ch = (base_channels, ) + self.out_channels[:3]
        strides = (1, 2, 2, 2)
        stages = [
            _make_res_layer(block, in_ch[i], widths[i], stage_blocks[i], strides[i], act_cfg)
            for i in range(4)
        ]
        self.layer1 = stages[0]
        self.layer2_hand = stages[1]
        self.layer3_hand = stages[2]
        self.layer4 = stages[3]
        self.layer2_obj = copy.deepcopy(self.layer2_hand)
        self.layer3_obj = copy.deepcopy(self.layer3_hand)

    def init_weights(self) -> None:
        """Kaiming init (or torchvision weights), then copy the hand layer2/3 to the object."""
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
        self.layer2_obj.load_state_dict(self.layer2_hand.state_dict())
        self.layer3_obj.load_state_dict(self.layer3_hand.state_dict())
        self._is_init = True

    def _load_torchvision(self, checkpoint: str) -> None:
        """Load a torchvision ResNet state dict (``torchvision://resnetXX`` or a file path)."""
        ckpt = _load_checkpoint(checkpoint, map_location='cpu')
        state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else ckpt
        mapped = {}
        for key, value in state.items():
            if key.startswith('fc.'):
                continue
            if key.startswith(('layer2.', 'layer3.')):
                stage, rest = key.split('.', 1)
                mapped[f'{stage}_hand.{rest}'] = value
                mapped[f'{stage}_obj.{rest}'] = value
            else:
                mapped[key] = value
        missing, unexpected = self.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise KeyError(f'HFLResNet: checkpoint {checkpoint!r} is not a torchvision ResNet-'
                           f'{self.depth}: missing {missing}, unexpected {unexpected}')

    def conv_bn_pairs(self) -> List[Tuple[str, str]]:
        """``bn(conv(x))`` pairs for :func:`~mmhandobj.models.inference_optim.fuse_conv_bn`."""
        return [('conv1', 'bn1')]

    def forward(self, x: Tensor) -> Union[Tuple[Tensor, StreamFeatures, StreamFeatures],
                                          Dict[str, Tensor]]:
        """Run both streams.

        Args:
            x (Tensor): Images (B, 3, H, W).

        Returns:
            ``(c2, (c3_hand, c4_hand, c5_hand), (c3_obj, c4_obj, c5_obj))`` with c2 the shared
            layer1 output (B, C2, H/4, W/4) and c3/c4/c5 at strides 8/16/32; with
            ``out_type='dict'`` the same tensors under keys ``c2``, ``c3_hand``, ...,
            ``c5_obj``.
        """
        c2 = self.layer1(self.maxpool(self.act(self.bn1(self.conv1(x)))))
        c3_hand = self.layer2_hand(c2)
        c4_hand = self.layer3_hand(c3_hand)
        c5_hand = self.layer4(c4_hand)
        c3_obj = self.layer2_obj(c2)
        c4_obj = self.layer3_obj(c3_obj)
        c5_obj = self.layer4(c4_obj)
        if self.out_type == 'dict':
            return dict(c2=c2, c3_hand=c3_hand, c4_hand=c4_hand, c5_hand=c5_hand,
                        c3_obj=c3_obj, c4_obj=c4_obj, c5_obj=c5_obj)
        return c2, (c3_hand, c4_hand, c5_hand), (c3_obj, c4_obj, c5_obj)

    def extra_repr(self) -> str:
        return (f'depth={self.depth}, base_channels={self.base_channels}, '
                f'out_channels={self.out_channels}')

