"""One FPN per stream of the two-stream trunk; only the stride-4 P2 map is produced."""
from typing import Dict, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmhandobj.registry import MODELS


def _upsample_add(top: Tensor, lateral: Tensor) -> Tensor:
    """Bilinearly resize ``top`` to ``lateral``'s exact size (align_corners=False) and add."""
    return F.interpolate(top, size=lateral.shape[-2:], mode='bilinear',
                         align_corners=False) + lateral


class P2FPN(nn.Module):
    """Top-down FPN of one stream that returns only the smoothed P2 map.

    P5 = top_conv(C5); P4 = up(P5) + lat0(C4); P3 = up(P4) + lat1(C3); P2 = up(P3) + lat2(C2);
    output smooth_conv(P2) (3x3). P3-P5 are not smoothed (as the reference). All convs have a
    bias and PyTorch's default init.

    Args:
        in_channels (Sequence[int]): Channels of (C2, C3, C4, C5).
        out_channels (int): FPN width.
    """

    def __init__(self, in_channels: Sequence[int], out_channels: int) -> None:
        super().__init__()
        c2, c3, c4, c5 = in_channels
        self.top_conv = nn.Conv2d(c5, out_channels, 1)
        self.lateral_convs = nn.ModuleList(
            [nn.Conv2d(c, out_channels, 1) for c in (c4, c3, c2)])
        self.smooth_conv = nn.Conv2d(out_channels, out_channels, 3, padding=1)

    def forward(self, c2: Tensor, c3: Tensor, c4: Tensor, c5: Tensor) -> Tensor:
        """Return P2 (B, out_channels, H2, W2) at the resolution of ``c2``."""
        p = self.top_conv(c5)
        for lateral_conv, c in zip(self.lateral_convs, (c4, c3, c2)):
            p = _upsample_add(p, lateral_conv(c))
        return self.smooth_conv(p)


@MODELS.register_module()
class DualFPN(BaseModule):
    """Two independent FPNs (hand, object) over the output of :class:`HFLResNet`.

    Both streams use the SHARED C2 for their finest lateral (reference behaviour).

    Args:
        in_channels (Sequence[int]): Channels of (C2, C3, C4, C5); (256, 512, 1024, 2048) for
            ResNet-50, (64, 128, 256, 512) for ResNet-18/34.
        out_channels (int): Channels of P2. Default 256.
        init_cfg (dict, optional): mmengine init config; ``None`` keeps PyTorch's default init
            (as the reference).
    """

    def __init__(self, in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 4:
            raise ValueError(f'DualFPN: in_channels must list 4 levels (C2..C5), got '
                             f'{in_channels}')
        self.out_channels = out_channels
        self.hand_fpn = P2FPN(in_channels, out_channels)
        self.obj_fpn = P2FPN(in_channels, out_channels)

    def forward(self, feats: Union[Tuple, Dict[str, Tensor]]) -> Tuple[Tensor, Tensor]:
        """Compute P2 of each stream.

        Args:
            feats: Output of :class:`HFLResNet`: ``(c2, (c3_h, c4_h, c5_h), (c3_o, c4_o, c5_o))``
                or the equivalent dict.

        Returns:
            tuple: ``(p2_hand, p2_obj)``, each (B, out_channels, H/4, W/4) for an input of HxW.
        """
        if isinstance(feats, dict):
            c2 = feats['c2']
            hand = (feats['c3_hand'], feats['c4_hand'], feats['c5_hand'])
            obj = (feats['c3_obj'], feats['c4_obj'], feats['c5_obj'])
        else:
            c2, hand, obj = feats
        return self.hand_fpn(c2, *hand), self.obj_fpn(c2, *obj)
