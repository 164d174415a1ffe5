"""HFL-Net's two interaction blocks: object-to-hand (self-attention) and hand-to-object."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmhandobj.models.heads.weight_init import hfl_head_init_cfg
from mmhandobj.registry import MODELS

from .attention_block import AttentionBlock
from .cbam import CBAM


class _AttentionFusion(BaseModule):
    """Stack of :class:`AttentionBlock` (``layers.<i>``) with an optional CBAM before it.

    With several layers the query is updated layer after layer while the key stays the input
    context.

    Args:
        channels (int): Channels C the attention blocks work on.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width / C.
        num_layers (int): Number of blocks (reference 1).
        qk_norm (bool): Layer-normalise each head's queries and keys
            (:class:`AttentionBlock`; reference False).
        detach_context (bool): Stop the gradient into the partner features (reference True).
        cbam (bool): Insert a :class:`CBAM` on the query before the attention.
        cbam_cfg (dict, optional): Keyword arguments of :class:`CBAM` besides ``channels``;
            giving it implies ``cbam=True``.
        init_cfg (list[dict], optional): Default the reference init of the heads and these
            blocks (:func:`~mmhandobj.models.heads.hfl_head_init_cfg`; LayerNorm keeps
            PyTorch's default).
    """

    def __init__(self, channels: int, num_heads: int, mlp_ratio: float, num_layers: int,
                 detach_context: bool, cbam: bool, cbam_cfg: Optional[dict],
                 init_cfg, qk_norm: bool = False) -> None:
        super().__init__(init_cfg=hfl_head_init_cfg() if init_cfg is None else init_cfg)
        self.detach_context = detach_context
        self.layers = nn.ModuleList(
            [AttentionBlock(channels, num_heads, mlp_ratio, qk_norm) for _ in range(num_layers)])
        use_cbam = cbam or cbam_cfg is not None
        self.cbam = CBAM(channels, **(cbam_cfg or {})) if use_cbam else None

    def _attend(self, query: Tensor, key: Tensor, out_channels: Optional[int] = None) -> Tensor:
        """Gate the query with CBAM when present, then run the blocks (:meth:`_run_layers`)."""
        if self.cbam is not None:
            query = self.cbam(query)
        return self._run_layers(query, key, out_channels)

    def _run_layers(self, query: Tensor, key: Tensor,
                    out_channels: Optional[int] = None) -> Tensor:
        """Run the blocks; the last one returns only ``out_channels`` channels when given."""
        for i, layer in enumerate(self.layers):
            query = layer(query, key, out_channels if i == len(self.layers) - 1 else None)
        return query


@MODELS.register_module()
class ObjectToHandFusion(_AttentionFusion):
    """Object-to-hand enhancement (authors' ``transformer_hand``).

    ``x = cat([hand, obj_in_hand.detach()])`` (2C channels) attends to itself (query = key =
    x; with CBAM the query is CBAM(x) and the key stays x, or is CBAM(x) too with
    ``cbam_gates_key=True``); the first C output channels are the
    enhanced hand feature (a slice, no fusion conv). The last block computes only those C
    channels (``AttentionBlock(out_channels=C)``: half of its MLP's second layer, same values).

    Args:
        in_channels (int): C, channels of each input RoI feature. Default 256.
        num_heads (int): Default 4. mlp_ratio (float): Default 4. num_layers (int): Default 1.
        detach_context (bool), cbam (bool), cbam_cfg (dict), init_cfg, qk_norm (bool): see
            the base class.
        cbam_gates_key (bool): With CBAM, feed the gated feature to the key/value as well
            as the query (the block's input gated, one reading of the reproduction report);
            False (default) keeps the key the raw concatenation. Requires CBAM.
    """

    def __init__(self, in_channels: int = 256, num_heads: int = 4, mlp_ratio: float = 4.0,
                 num_layers: int = 1, detach_context: bool = True, cbam: bool = False,
                 cbam_cfg: Optional[dict] = None, cbam_gates_key: bool = False,
                 init_cfg=None, qk_norm: bool = False) -> None:
        super().__init__(2 * in_channels, num_heads, mlp_ratio, num_layers, detach_context,
                         cbam, cbam_cfg, init_cfg, qk_norm)
        if cbam_gates_key and self.cbam is None:
            raise ValueError('ObjectToHandFusion: cbam_gates_key=True needs CBAM (cbam=True '
                             'or cbam_cfg)')
        self.in_channels = in_channels
        self.cbam_gates_key = cbam_gates_key

    def forward(self, hand_feat: Tensor, obj_feat: Tensor) -> Tensor:
        """Enhance the hand RoI feature with the object stream's features in the hand box.

        Args:
            hand_feat (Tensor): Hand-stream RoI feature (B, C, S, S).
            obj_feat (Tensor): Object-stream feature in the hand box (B, C, S, S).

        Returns:
            Tensor: Enhanced hand feature (B, C, S, S).
        """
        if self.detach_context:
            obj_feat = obj_feat.detach()
        x = torch.cat([hand_feat, obj_feat], dim=1)
        if self.cbam_gates_key:
            gated = self.cbam(x)
            return self._run_layers(gated, gated, out_channels=self.in_channels)
        return self._attend(x, x, out_channels=self.in_channels)


@MODELS.register_module()
class HandToObjectFusion(_AttentionFusion):
    """Hand-to-object enhancement (authors' ``transformer_obj``): cross-attention.

    Query = object RoI feature (CBAM-gated when enabled); key/value = hand-stream features in
    the hand-object intersection box, detached (zeros when the boxes do not overlap, so the
    block then adds a constant: docs/reference_parity.md R8).

    Args:
        in_channels (int): C. Default 256.
        num_heads (int): Default 4. mlp_ratio (float): Default 4. num_layers (int): Default 1.
        detach_context (bool), cbam (bool), cbam_cfg (dict), init_cfg, qk_norm (bool): see
            the base class.
    """

    def __init__(self, in_channels: int = 256, num_heads: int = 4, mlp_ratio: float = 4.0,
                 num_layers: int = 1, detach_context: bool = True, cbam: bool = False,
                 cbam_cfg: Optional[dict] = None, init_cfg=None, qk_norm: bool = False) -> None:
        super().__init__(in_channels, num_heads, mlp_ratio, num_layers, detach_context,
                         cbam, cbam_cfg, init_cfg, qk_norm)
        self.in_channels = in_channels

    def forward(self, obj_feat: Tensor, inter_feat: Tensor) -> Tensor:
        """Enhance the object RoI feature with the hand features of the intersection.

        Args:
            obj_feat (Tensor): Object RoI feature (B, C, S, S).
            inter_feat (Tensor): Hand-stream feature in the intersection box (B, C, S, S).

        Returns:
            Tensor: Enhanced object feature (B, C, S, S).
        """
        if self.detach_context:
            inter_feat = inter_feat.detach()
        return self._attend(obj_feat, inter_feat)
