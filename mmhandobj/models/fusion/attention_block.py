"""Conv-projected multi-head attention block over RoI feature maps (the authors' CR ``Block``)."""
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

    def forward(self, x: Tensor) -> Tensor:
        """(B, N, C) -> (B, N, C)."""
        return self.fc2(self.act(self.fc1(x)))


class AttentionBlock(nn.Module):
    """One interaction block: conv-projected attention plus a post-norm-free MLP.

    q = conv1x1(query), k = conv1x1(key), v = conv1x1(key), each flattened to N = H*W tokens
    (token index = row * W + col); heads split C into contiguous chunks of d = C / heads;
    ``x = query_tokens + softmax(q k^T / sqrt(d)) v`` (no output projection, no dropout, no
    positional encoding, no pre-attention norm); ``x = x + mlp(norm2(x))``. Parameter names
    match the authors' ``networks/CR.Block`` (``encode_query``, ``encode_key``,
    ``encode_value``, ``norm2``, ``mlp.fc1``, ``mlp.fc2``).

    Attention uses ``F.scaled_dot_product_attention`` (fused kernels on CPU and GPU).

    Args:
        channels (int): C, channels of query and key maps.
        num_heads (int): Number of heads; must divide C.
        mlp_ratio (float): MLP hidden width / C. Default 4.
    """

    def __init__(self, channels: int, num_heads: int, mlp_ratio: float = 4.0) -> None:
        super().__init__()
        if channels % num_heads:
            raise ValueError(f'AttentionBlock: channels ({channels}) must be divisible by '
                             f'num_heads ({num_heads})')
        self.channels = channels
        self.num_heads = num_heads
        self.encode_query = nn.Conv2d(channels, channels, 1)
        self.encode_key = nn.Conv2d(channels, channels, 1)
        self.encode_value = nn.Conv2d(channels, channels, 1)
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

    def forward(self, query: Tensor, key: Tensor) -> Tensor:
        """Attend from ``query`` to ``key``.

        Args:
            query (Tensor): (B, C, H, W).
            key (Tensor): (B, C, H', W'); values are projected from it too.

        Returns:
            Tensor: (B, C, H, W).
        """
        b, c, h, w = query.shape
        attn = F.scaled_dot_product_attention(
            self._heads(self.encode_query(query)), self._heads(self.encode_key(key)),
            self._heads(self.encode_value(key)))
        x = query.flatten(2).transpose(1, 2) + attn.transpose(1, 2).reshape(b, h * w, c)
        x = x + self.mlp(self.norm2(x))
        return x.transpose(1, 2).reshape(b, c, h, w)
