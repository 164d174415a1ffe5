"""FPN necks of the two-stream trunk (one per stream, or shared); only P2 is produced, on the
whole map or only in the windows the RoIs read."""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmhandobj.registry import MODELS

#: A window of a map, rows ``[row_start, row_end)`` and columns ``[col_start, col_end)``, cells.
Window = Tuple[int, int, int, int]


class P2Window(NamedTuple):
    """P2 of one image computed only in a window of the map.

    Attributes:
        feat (Tensor): (C, h, w) the window's cells of P2.
        row (int): Map row of ``feat``'s first row (cells of P2).
        col (int): Map column of ``feat``'s first column.
    """
    feat: Tensor
    row: int
    col: int


def union_window(first: Window, second: Window) -> Window:
    """Smallest window holding both (an empty window, start == end, adds nothing)."""
    if first[0] == first[1] or first[2] == first[3]:
        return second
    if second[0] == second[1] or second[2] == second[3]:
        return first
    return (min(first[0], second[0]), max(first[1], second[1]),
            min(first[2], second[2]), max(first[3], second[3]))


def _upsample_add(top: Tensor, lateral: Tensor) -> Tensor:
    """Bilinearly resize ``top`` to ``lateral``'s exact size (align_corners=False) and add."""
    return F.interpolate(top, size=lateral.shape[-2:], mode='bilinear',
                         align_corners=False) + lateral


class P2FPN(nn.Module):
    """Top-down FPN of one stream that returns only the smoothed P2 map.

    P5 = top_conv(C5); P4 = up(P5) + lat0(C4); P3 = up(P4) + lat1(C3); P2 = up(P3) + lat2(C2);
    output smooth_conv(P2) (3x3). P3-P5 are not smoothed (as the reference). All convs have a
    bias and PyTorch's default init.

    With ``windows`` the P2 level (the C2 lateral, the sum and the 3x3 smoothing, 5.3 of the
    R50 model's 22.7 GMAC) is computed per image only in its window, from a crop one cell wider
    on each side (zero-padded where that crosses the map border, as the full conv's padding):
    the same values as the full map's cells there, to float rounding.

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

    def forward(self, c2: Tensor, c3: Tensor, c4: Tensor, c5: Tensor,
                windows: Optional[Sequence[Window]] = None) -> Union[Tensor, List[P2Window]]:
        """Return P2 (B, out_channels, H2, W2) at the resolution of ``c2``, or with
        ``windows`` (one per image, map cells) the list of each image's :class:`P2Window`."""
        p = self.top_conv(c5)
        for lateral_conv, c in zip(self.lateral_convs[:2], (c4, c3)):
            p = _upsample_add(p, lateral_conv(c))
        if windows is None:
            return self.smooth_conv(_upsample_add(p, self.lateral_convs[2](c2)))
        if len(windows) != c2.shape[0]:
            raise ValueError(f'P2FPN: {len(windows)} windows for a batch of {c2.shape[0]}')
        height, width = c2.shape[-2:]
        top = F.interpolate(p, size=(height, width), mode='bilinear', align_corners=False)
        # per image first: the backward of a batch slice would zero-fill the whole batch's
        # gradient once per window, that of unbind stacks the B image gradients once
        tops, c2s = top.unbind(0), c2.unbind(0)
        out = []
        for b, (r0, r1, c0, c1) in enumerate(windows):
            h0, h1, w0, w1 = max(r0 - 1, 0), min(r1 + 1, height), max(c0 - 1, 0), min(c1 + 1, width)
            x = tops[b][None, :, h0:h1, w0:w1] + \
                self.lateral_convs[2](c2s[b][None, :, h0:h1, w0:w1])
            x = F.pad(x, (1 - (c0 - w0), 1 - (w1 - c1), 1 - (r0 - h0), 1 - (h1 - r1)))
            feat = F.conv2d(x, self.smooth_conv.weight, self.smooth_conv.bias)
            out.append(P2Window(feat[0], r0, c0))
        return out


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

    @staticmethod
    def _streams(feats: Union[Tuple, Dict[str, Tensor]]) -> Tuple[Tuple, Tuple]:
        """``(hand (c2..c5), obj (c2..c5))`` from :class:`HFLResNet`'s tuple or dict output."""
        if isinstance(feats, dict):
            return (tuple(feats[f'c{i}_hand'] for i in range(2, 6)),
                    tuple(feats[f'c{i}_obj'] for i in range(2, 6)))
        return feats

    def p2_size(self, feats: Union[Tuple, Dict[str, Tensor]]) -> Tuple[int, int]:
        """(H2, W2): the size of the P2 maps this neck makes from ``feats`` (that of C2)."""
        return tuple(self._streams(feats)[0][0].shape[-2:])

    def forward(self, feats: Union[Tuple, Dict[str, Tensor]],
                windows: Optional[Tuple[Sequence[Window], Sequence[Window]]] = None
                ) -> Tuple[Union[Tensor, List[P2Window]], Union[Tensor, List[P2Window]]]:
        """Compute P2 of each stream.

        Args:
            feats: Output of :class:`HFLResNet`: ``((c2_h, c3_h, c4_h, c5_h), (c2_o, ...,
                c5_o))`` or the equivalent dict (keys ``c2_hand``, ..., ``c5_obj``).
            windows: Optional ``(hand windows, obj windows)``, one window per image each
                (``HandObjectRoIExtractor.windows``): P2 is computed only there.

        Returns:
            tuple: ``(p2_hand, p2_obj)``, each (B, out_channels, H/4, W/4) for an input of HxW
            (the same tensor when the FPN is shared and the streams are identical), or with
            ``windows`` each a list of B :class:`P2Window` (a shared FPN on identical streams
            computes the union of both windows once and returns it for both).
        """
        hand, obj = self._streams(feats)
        hand_windows, obj_windows = windows if windows is not None else (None, None)
        if not self.share_weights:
            return self.hand_fpn(*hand, hand_windows), self.obj_fpn(*obj, obj_windows)
        if all(h is o for h, o in zip(hand, obj)):
            if windows is not None:
                hand_windows = [union_window(h, o) for h, o in zip(hand_windows, obj_windows)]
            p2 = self.fpn(*hand, hand_windows)
            return p2, p2
        return self.fpn(*hand, hand_windows), self.fpn(*obj, obj_windows)
