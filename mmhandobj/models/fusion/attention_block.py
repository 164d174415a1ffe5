"""Conv-projected multi-head attention block over RoI feature maps (the authors' CR ``Block``)."""
from typing import Optional

import torch.nn.functional as F
from torch import Tensor, nn


class Mlp(nn.Module):
    """Token MLP: Linear(C, hidden) -> GELU -> Linear(hidden, C).

    Args:
        channels (int): Token width C.
        hidden_channels (int): Hidden width.
    """

    def __init__(self, channels: int, hidden_channels: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(channels, hidden_channels)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_channels, channels)

    def forward(self, x: Tensor, out_channels: Optional[int] = None) -> Tensor:
        """(B, N, C) -> (B, N, C), or only its first ``out_channels`` channels.

        Output channel ``j`` of ``fc2`` reads row ``j`` of its weight only, so the first
        ``out_channels`` outputs are ``fc2``'s first rows applied to the same hidden
        activations: exactly the full output's slice, for a fraction of ``fc2``'s products.
        """
        hidden = self.act(self.fc1(x))
        if out_channels is None:
            return self.fc2(hidden)
        return F.linear(hidden, self.fc2.weight[:out_channels], self.fc2.bias[:out_channels])


class AttentionBlock(nn.Module):
    """One interaction block: conv-projected attention plus a post-norm-free MLP.

    q = conv1x1(query), k = conv1x1(key), v = conv1x1(key), each flattened to N = H*W tokens
    (token index = row * W + col); heads split C into contiguous chunks of d = C / heads;
    ``x = query_tokens + softmax(q k^T / sqrt(d)) v`` (no output projection, no dropout, no
    positional encoding, no pre-attention norm); ``x = x + mlp(norm2(x))``. Parameter names
    match the authors' ``networks/CR.Block`` (``encode_query``, ``encode_key``,
    ``encode_value``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``).

    With ``qk_norm=True`` (not in the authors' block) each head's q and k are layer-normalised
    over their d channels before the product (``norm_query``, ``norm_key``: LayerNorm(d) with
    learned gain and bias, shared by the heads). Without it a logit is the product of two
    linear maps of the RoI features, so it grows with the square of the features' scale, which
    nothing bounds: in the quick start at batch 2 the q/k RMS went from 0.01 to 100 within 200
    iterations, logits reached 1e6 and the softmax became one-hot (entropy 0 against ln N);
    the gradient later overflowed. Normalised, ``|q| <= sqrt(d) max|gain| + |bias|`` for
    every token, so ``|logit| <= |q| |k| / sqrt(d)`` is bounded by the norms' parameters
    alone, whatever the features' scale.

    Attention uses ``F.scaled_dot_product_attention`` (fused kernels on CPU and GPU).

    Args:
        channels (int): C, channels of query and key maps.
        num_heads (int): Number of heads; must divide C.
        mlp_ratio (float): MLP hidden width / C. Default 4.
        qk_norm (bool): Layer-normalise each head's queries and keys. Default False (the
            authors' block; their checkpoints have no such parameters).
    """

    def __init__(self, channels: int, num_heads: int, mlp_ratio: float = 4.0,
                 qk_norm: bool = False) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f'AttentionBlock: channels ({channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.channels = channels
        self.num_heads = num_heads
        self.encode_query = nn.Conv2d(channels, channels, 1)
        self.encode_key = nn.Conv2d(channels, channels, 1)
        self.encode_value = nn.Conv2d(channels, channels, 1)
        head_channels = channels // num_heads
        self.norm_query = nn.LayerNorm(head_channels) if qk_norm else None
        self.norm_key = nn.LayerNorm(head_channels) if qk_norm else None
        self.norm2 = nn.LayerNorm(channels)
        self.mlp = Mlp(channels, int(channels * mlp_ratio))

    def _heads(self, x: Tensor) -> Tensor:
        """(B, C, H, W) -> (B, heads, H*W, C/heads)."""
        b, c = x.shape[:2]
        heads = x.flatten(2).reshape(b, self.num_heads, c // self.num_heads, -1).transpose(2, 3)
        # The fused (flash) CPU kernel of scaled_dot_product_attention needs unit stride along
        # the head dimension, else it falls back to the unfused math path (N x N attention
        # matrices in memory). Channels-last maps already have it.
        return heads if heads.stride(-1) == 1 else heads.contiguous()

    def forward(self, query: Tensor, key: Tensor,
                out_channels: Optional[int] = None) -> Tensor:
        """Attend from ``query`` to ``key``.

        Args:
            query (Tensor): (B, C, H, W).
            key (Tensor): (B, C, H', W'); values are projected from it too.
            out_channels (int, optional): Return only the first ``out_channels`` channels,
                computed without the others' share of the MLP's second layer (the
                LayerNorm before the MLP still needs every channel of the attention output).

        Returns:
            Tensor: (B, C, H, W), or (B, out_channels, H, W).
        """
        b, c, h, w = query.shape
        q = self._heads(self.encode_query(query))
        k = self._heads(self.encode_key(key))
        if self.norm_query is not None:
            q, k = self.norm_query(q), self.norm_key(k)
        attn = F.scaled_dot_product_attention(q, k, self._heads(self.encode_value(key)))
        # The residual is added in the heads' layout, (B, N, heads, C/heads) with the query's
        # tokens first: the sum is then written token-major and flattening the heads is a
        # view, where reshaping the attention output to (B, N, C) first would copy it.
        tokens = query.flatten(2).transpose(1, 2)
        x = (tokens.unflatten(2, (self.num_heads, -1)) + attn.transpose(1, 2)).flatten(2)
        keep = slice(None) if out_channels is None else slice(out_channels)
        x = x[..., keep] + self.mlp(self.norm2(x), out_channels)
        return x.transpose(1, 2).reshape(b, -1, h, w)
