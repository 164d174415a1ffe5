"""FPN necks of the two-stream trunk (one per stream, or shared); only P2 is produced."""
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
    """One FPN per stream (hand, object) over the output of :class:`HFLResNet`, or one FPN for
    both (``share_weights=True``).

    Each stream's FPN reads that stream's C2-C5; with HFL-Net's split (layer1 shared) both read
    the same C2 (reference behaviour). With ``share_weights`` a single FPN (``fpn.*``) serves
    both streams, and when the two streams are the same tensors (a single-stream trunk,
    ``split_stages=()``) it runs once and both outputs are the same map (Semi-Hand-Object's
    one FPN).

    Args:
        in_channels (Sequence[int]): Channels of (C2, C3, C4, C5); (256, 512, 1024, 2048) for
            ResNet-50, (64, 128, 256, 512) for ResNet-18/34.
        out_channels (int): Channels of P2. Default 256.
        share_weights (bool): One FPN for both streams. Default False (HFL-Net).
        init_cfg (dict, optional): mmengine init config; ``None`` keeps PyTorch's default init
            (as the reference).
    """

    def __init__(self, in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 out_channels: int = 256, share_weights: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(in_channels) != 4:
            raise ValueError(f'DualFPN: in_channels must list 4 levels (C2..C5), got '
                             f'{in_channels}')
        self.out_channels = out_channels
        self.share_weights = share_weights
        if share_weights:
            self.fpn = P2FPN(in_channels, out_channels)
        else:
            self.hand_fpn = P2FPN(in_channels, out_channels)
            self.obj_fpn = P2FPN(in_channels, out_channels)

    def forward(self, feats: Union[Tuple, Dict[str, Tensor]]) -> Tuple[Tensor, Tensor]:
        """Compute P2 of each stream.

        Args:
            feats: Output of :class:`HFLResNet`: ``((c2_h, c3_h, c4_h, c5_h), (c2_o, ...,
                c5_o))`` or the equivalent dict (keys ``c2_hand``, ..., ``c5_obj``).

        Returns:
            tuple: ``(p2_hand, p2_obj)``, each (B, out_channels, H/4, W/4) for an input of HxW
            (the same tensor when the FPN is shared and the streams are identical).
        """
        if isinstance(feats, dict):
            hand = tuple(feats[f'c{i}_hand'] for i in range(2, 6))
            obj = tuple(feats[f'c{i}_obj'] for i in range(2, 6))
        else:
            hand, obj = feats
        if not self.share_weights:
            return self.hand_fpn(*hand), self.obj_fpn(*obj)
        p2_hand = self.fpn(*hand)
        if all(h is o for h, o in zip(hand, obj)):
            return p2_hand, p2_hand
        return p2_hand, self.fpn(*obj)
