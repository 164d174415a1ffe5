import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from mmhandobj.models.fusion import CBAM, AttentionBlock, HandToObjectFusion, ObjectToHandFusion


def _explicit_block(block, query, key):
    """Authors' CR Block written out: explicit softmax(q k^T d^-0.5) v, loops over heads.

    With the block's optional QK norm, each head's q and k rows are standardised over their d
    channels (biased variance) and scaled and shifted by the norms' parameters first.
    """
    b, c, h, w = query.shape
    heads = block.num_heads
    d = c // heads

    def proj(conv, x):
        y = torch.einsum('oc,bchw->bohw', conv.weight[:, :, 0, 0], x)
        return (y + conv.bias[None, :, None, None]).reshape(b, c, h * w).permute(0, 2, 1)

    q, k, v = proj(block.encode_query, query), proj(block.encode_key, key), \
        proj(block.encode_value, key)
    def head_norm(norm, x):
        if norm is None:
            return x
        centred = x - x.mean(-1, keepdim=True)
        std = torch.sqrt((centred**2).mean(-1, keepdim=True) + norm.eps)
        return centred / std * norm.weight + norm.bias

    outs = []
    for i in range(heads):
        sl = slice(i * d, (i + 1) * d)
        qi, ki = head_norm(block.norm_query, q[..., sl]), head_norm(block.norm_key, k[..., sl])
        attn = torch.softmax(qi @ ki.transpose(1, 2) * d**-0.5, dim=-1)
        outs.append(attn @ v[..., sl])
    x = query.reshape(b, c, h * w).permute(0, 2, 1) + torch.cat(outs, dim=-1)
    mean = x.mean(-1, keepdim=True)
    var = x.var(-1, unbiased=False, keepdim=True)
    normed = (x - mean) / torch.sqrt(var + block.norm2.eps) * block.norm2.weight + \
        block.norm2.bias
    hidden = F.gelu(normed @ block.mlp.fc1.weight.T + block.mlp.fc1.bias)
    x = x + hidden @ block.mlp.fc2.weight.T + block.mlp.fc2.bias
    return x.permute(0, 2, 1).reshape(b, c, h, w)


def _randomise(module):
    torch.manual_seed(1)
    with torch.no_grad():
        for p in module.parameters():
            p.normal_(0, 0.2)


def test_sdpa_block_equals_explicit_softmax():
    block = AttentionBlock(16, num_heads=4).double()
    _randomise(block)
    q = torch.randn(2, 16, 5, 6, dtype=torch.float64)
    k = torch.randn(2, 16, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(block(q, k), _explicit_block(block, q, k))
    # channels_last inputs give the same result
    torch.testing.assert_close(block(q.to(memory_format=torch.channels_last), k),
                               _explicit_block(block, q, k))


def test_qk_norm_block_equals_written_out_and_bounds_the_logits():
    block = AttentionBlock(16, num_heads=4, qk_norm=True).double()
    _randomise(block)
    assert {n for n, _ in block.named_parameters()} >= {
        'norm_query.weight', 'norm_query.bias', 'norm_key.weight', 'norm_key.bias'}
    assert block.norm_query.normalized_shape == (4,)  # one norm over each head's d channels
    q = torch.randn(2, 16, 5, 6, dtype=torch.float64)
    k = torch.randn(2, 16, 6, 5, dtype=torch.float64)
    torch.testing.assert_close(block(q, k), _explicit_block(block, q, k))
    # Scaling the features by 1e4 cannot sharpen the attention: with the conv biases zeroed,
    # normalised q and k are scale-free (up to the norms' eps), so the attention weights are
    # the same softmax as at scale 1.
    with torch.no_grad():
        block.encode_query.bias.zero_()
        block.encode_key.bias.zero_()
    weights = []
    for scale in (1.0, 1e4):
        qs = block.norm_query(block._heads(block.encode_query(q * scale)))
        ks = block.norm_key(block._heads(block.encode_key(k * scale)))
        weights.append(torch.softmax(qs @ ks.transpose(-1, -2) / 2.0, dim=-1))
    torch.testing.assert_close(weights[0], weights[1], rtol=0, atol=1e-4)
    # Without the norm the same scaling makes the logits 1e8 times larger.
    plain = AttentionBlock(16, num_heads=4).double()
    _randomise(plain)
    logits = [plain._heads(plain.encode_query(q * s)) @ plain._heads(plain.encode_key(k * s))
              .transpose(-1, -2) for s in (1.0, 1e4)]
    assert logits[1].abs().max() > 1e7 * logits[0].abs().max()


@pytest.mark.parametrize('channels_last', [False, True])
def test_sdpa_block_runs_on_the_fused_cpu_kernel(channels_last):
    # The flash kernel refuses q/k/v without unit stride along the head dimension, so this
    # fails if the block hands SDPA strided views (and silently got the slow math path).
    block = AttentionBlock(16, num_heads=4)
    _randomise(block)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    q = torch.randn(2, 16, 4, 4).to(memory_format=fmt)
    k = torch.randn(2, 16, 4, 4).to(memory_format=fmt)
    block = block.to(memory_format=fmt)
    with sdpa_kernel([SDPBackend.FLASH_ATTENTION]):
        out = block(q, k)
    torch.testing.assert_close(out, _explicit_block(block, q, k), rtol=1e-5, atol=1e-5)


def test_object_to_hand_fusion_slices_hand_half_and_detaches():
    fusion = ObjectToHandFusion(in_channels=8, num_heads=4).double()
    _randomise(fusion)
    hand = torch.randn(2, 8, 4, 4, dtype=torch.float64, requires_grad=True)
    obj = torch.randn(2, 8, 4, 4, dtype=torch.float64, requires_grad=True)
    out = fusion(hand, obj)
    x = torch.cat([hand, obj], 1)
    torch.testing.assert_close(out, _explicit_block(fusion.layers[0], x, x)[:, :8])
    out.sum().backward()
    assert obj.grad is None and hand.grad is not None and hand.grad.abs().sum() > 0


@pytest.mark.parametrize('channels_last', [False, True])
def test_block_out_channels_equals_the_full_outputs_slice_with_its_gradients(channels_last):
    # Two layers: only the last one may drop channels (the first one's output is the next
    # query). Oracle: the explicit block, full width, sliced afterwards.
    fusion = ObjectToHandFusion(in_channels=8, num_heads=4, num_layers=2).double()
    _randomise(fusion)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    hand = torch.randn(2, 8, 4, 5, dtype=torch.float64).to(memory_format=fmt)
    obj = torch.randn(2, 8, 4, 5, dtype=torch.float64).to(memory_format=fmt)
    hand.requires_grad_(True)
    out = fusion(hand, obj)
    grads = torch.autograd.grad(out.square().sum(), [hand, *fusion.parameters()])

    ref_hand = hand.detach().clone().requires_grad_(True)
    x = torch.cat([ref_hand, obj], 1)
    first, second = fusion.layers
    ref = _explicit_block(second, _explicit_block(first, x, x), x)[:, :8]
    ref_grads = torch.autograd.grad(ref.square().sum(), [ref_hand, *fusion.parameters()])
    assert out.shape == (2, 8, 4, 5)
    torch.testing.assert_close(out, ref)
    for got, want in zip(grads, ref_grads):
        torch.testing.assert_close(got, want)
    # the dropped outputs take no gradient into the second MLP layer's rows
    assert grads[-2][8:].abs().max() == 0 and grads[-1][8:].abs().max() == 0


def test_object_to_hand_block_multiplies_only_for_the_kept_half():
    # Closed-form count of the products the block must do for B = 1, C = 8 (2C = 16 attended
    # channels), S = 4 (N = 16 tokens), MLP hidden 4 * 2C: the q/k/v projections, q k^T and
    # attn v over all heads, fc1, and fc2 for the C kept outputs only.
    c, s = 8, 4
    n, width, hidden = s * s, 2 * c, 4 * 2 * c
    expected_macs = 3 * n * width * width + 2 * n * n * width + n * width * hidden + \
        n * hidden * c
    fusion = ObjectToHandFusion(in_channels=c, num_heads=4)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        fusion(torch.randn(1, c, s, s), torch.randn(1, c, s, s))
    assert counter.get_total_flops() == 2 * expected_macs


def test_hand_to_object_fusion_cross_attention_and_no_overlap_constant():
    fusion = HandToObjectFusion(in_channels=8, num_heads=4).double()
    _randomise(fusion)
    obj = torch.randn(2, 8, 4, 4, dtype=torch.float64, requires_grad=True)
    inter = torch.randn(2, 8, 4, 4, dtype=torch.float64, requires_grad=True)
    out = fusion(obj, inter)
    torch.testing.assert_close(out, _explicit_block(fusion.layers[0], obj, inter))
    out.sum().backward()
    assert inter.grad is None and obj.grad is not None
    # zero key/value (no overlap): uniform attention adds bias_v before the MLP
    # (docs/reference_parity.md R8)
    with torch.no_grad():
        zero_out = fusion(obj, torch.zeros_like(inter))
        x = obj.flatten(2).transpose(1, 2) + fusion.layers[0].encode_value.bias
        blk = fusion.layers[0]
        x = x + blk.mlp(blk.norm2(x))
    torch.testing.assert_close(zero_out, x.transpose(1, 2).reshape(obj.shape))


def test_parameter_names_counts_and_init():
    hand = ObjectToHandFusion()
    obj = HandToObjectFusion()
    names = {k for k in hand.state_dict()}
    assert names == {f'layers.0.{n}.{p}' for n in ('encode_query', 'encode_key',
                                                   'encode_value', 'norm2', 'mlp.fc1',
                                                   'mlp.fc2') for p in ('weight', 'bias')}
    # docs/reference_parity.md R32
    assert sum(p.numel() for p in hand.parameters()) == 2888704
    assert sum(p.numel() for p in obj.parameters()) == 723456
    torch.manual_seed(0)
    hand.init_weights()
    blk = hand.layers[0]
    assert abs(blk.encode_query.weight.std().item() - 0.001) < 1e-4
    assert abs(blk.mlp.fc1.weight.std().item() - 0.01) < 1e-3
    assert blk.encode_key.bias.abs().max() == 0 and blk.mlp.fc2.bias.abs().max() == 0
    assert torch.all(blk.norm2.weight == 1) and torch.all(blk.norm2.bias == 0)


def test_cbam_formula_and_insertion():
    torch.manual_seed(0)
    cbam = CBAM(32, reduction=16).eval()
    _randomise(cbam)
    x = torch.randn(2, 32, 6, 6)
    ca = cbam.channel_attention.mlp

    def mlp(v):
        return ca[2].weight[:, :, 0, 0] @ torch.relu(ca[0].weight[:, :, 0, 0] @ v)

    gate_c = torch.stack([torch.sigmoid(mlp(x[i].mean((1, 2))) + mlp(x[i].amax((1, 2))))
                          for i in range(2)])
    y = x * gate_c[:, :, None, None]
    sa = cbam.spatial_attention
    desc = torch.stack([y.mean(1), y.amax(1)], 1)
    bn = sa.bn
    z = F.conv2d(desc, sa.conv.weight, padding=3)
    z = (z - bn.running_mean[0]) / torch.sqrt(bn.running_var[0] + bn.eps) * bn.weight[0] + \
        bn.bias[0]
    torch.testing.assert_close(cbam(x), y * torch.sigmoid(z))
    fusion = HandToObjectFusion(in_channels=32, num_heads=4, cbam_cfg=dict(reduction=8))
    assert fusion.cbam is not None and fusion.cbam.channel_attention.mlp[0].out_channels == 4
    assert ObjectToHandFusion(in_channels=16, cbam=True).cbam.channel_attention.mlp[0] \
        .in_channels == 32
    assert ObjectToHandFusion().cbam is None
    fusion.eval()
    with torch.no_grad():
        q, k = torch.randn(1, 32, 4, 4), torch.randn(1, 32, 4, 4)
        torch.testing.assert_close(fusion(q, k), fusion.layers[0](fusion.cbam(q), k))


def _written_out_cbam(cbam, x, channel_gate):
    """CBAM in eval mode from plain torch ops, for either channel-gate order.

    Channel gate: GAP and GMP (B, C) -> conv1x1 (C -> C/r) -> ReLU -> conv1x1 (C/r -> C);
    'sum_then_sigmoid': sigmoid(a + m); 'sigmoid_then_sum': sigmoid(a) + sigmoid(m).
    Spatial gate: [mean_c, max_c] -> 7x7 conv (padding 3) -> BN (running stats) -> sigmoid.
    """
    w1 = cbam.channel_attention.mlp[0].weight[:, :, 0, 0]
    w2 = cbam.channel_attention.mlp[2].weight[:, :, 0, 0]
    gap = x.mean(dim=(2, 3))
    gmp = x.flatten(2).max(dim=2).values
    a = torch.relu(gap @ w1.T) @ w2.T
    m = torch.relu(gmp @ w1.T) @ w2.T
    if channel_gate == 'sum_then_sigmoid':
        weight_c = 1 / (1 + torch.exp(-(a + m)))
    else:
        weight_c = 1 / (1 + torch.exp(-a)) + 1 / (1 + torch.exp(-m))
    y = x * weight_c[:, :, None, None]
    sa = cbam.spatial_attention
    desc = torch.stack([y.mean(1), y.max(1).values], 1)
    z = F.conv2d(desc, sa.conv.weight, padding=3)
    bn = sa.bn
    z = (z - bn.running_mean[0]) / torch.sqrt(bn.running_var[0] + bn.eps) * bn.weight[0] + \
        bn.bias[0]
    return y / (1 + torch.exp(-z))


def _cbam_with_stats(cbam):
    _randomise(cbam)
    with torch.no_grad():
        cbam.spatial_attention.bn.running_mean.fill_(0.3)
        cbam.spatial_attention.bn.running_var.fill_(2.0)
    return cbam.eval()


@pytest.mark.parametrize('channel_gate', ['sum_then_sigmoid', 'sigmoid_then_sum'])
def test_cbam_channel_gate_orders_equal_written_out_formula(channel_gate):
    cbam = _cbam_with_stats(CBAM(32, reduction=8, channel_gate=channel_gate).double())
    torch.manual_seed(2)
    x = torch.randn(3, 32, 5, 7, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(cbam(x), _written_out_cbam(cbam, x, channel_gate))
        gate = cbam.channel_attention(x) / x
    # weights in (0, 1) for the standard order, (0, 2) and some above 1 for the report's
    if channel_gate == 'sum_then_sigmoid':
        assert gate.max() < 1
    else:
        assert gate.max() > 1 and gate.max() < 2


def test_cbam_default_order_and_bad_order():
    assert CBAM(16).channel_attention.order == 'sum_then_sigmoid'
    with pytest.raises(ValueError, match='sigmoid_then_sum'):
        CBAM(16, channel_gate='sigmoid_sum')


@pytest.mark.parametrize('gates_key', [False, True])
def test_object_to_hand_cbam_gates_key(gates_key):
    c = 8
    fusion = ObjectToHandFusion(in_channels=c, num_heads=4, cbam_gates_key=gates_key,
                                cbam_cfg=dict(channel_gate='sigmoid_then_sum', reduction=4))
    fusion.double()
    _randomise(fusion)
    _cbam_with_stats(fusion.cbam)
    fusion.eval()
    torch.manual_seed(3)
    hand = torch.randn(2, c, 4, 4, dtype=torch.float64)
    obj = torch.randn(2, c, 4, 4, dtype=torch.float64)
    x = torch.cat([hand, obj], 1)
    with torch.no_grad():
        gated = _written_out_cbam(fusion.cbam, x, 'sigmoid_then_sum')
        expected = _explicit_block(fusion.layers[0], gated, gated if gates_key else x)[:, :c]
        out = fusion(hand, obj)
        torch.testing.assert_close(out, expected)
        other = _explicit_block(fusion.layers[0], gated, x if gates_key else gated)[:, :c]
        assert (out - other).abs().max() > 1e-3  # the key really is what the option says


def test_cbam_gates_key_needs_cbam():
    assert ObjectToHandFusion().cbam_gates_key is False
    with pytest.raises(ValueError, match='cbam_gates_key'):
        ObjectToHandFusion(cbam_gates_key=True)
