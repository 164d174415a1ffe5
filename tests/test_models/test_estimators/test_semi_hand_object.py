from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from torchvision.ops import roi_align

from mmhandobj.models.estimators import SemiHandObject
from mmhandobj.registry import MODELS
from mmhandobj.utils import with_standin_mano

HAND = torch.tensor([[4., 6., 40., 44.], [20., 10., 60., 50.]])
OBJ = torch.tensor([[20., 24., 60., 62.], [2., 52., 30., 63.]])  # 2nd: no overlap
SHO_MODEL_CONFIG = Path(__file__).parents[3] / 'configs' / '_base_' / 'models' / 'sho_r50.py'


@pytest.fixture(scope='module')
def model(sho_model_cfg):
    torch.manual_seed(0)
    net = MODELS.build(sho_model_cfg())
    net.init_weights()
    return net.eval()


def _sho_cr_block(block, query, key):
    """SHO's CR ``Block`` written out: 1x1 conv q/k/v, one softmax attention over the H*W
    tokens, residual on the raw query, then a LayerNorm-MLP residual."""
    b, c, h, w = query.shape

    def tokens(x):  # (B, C, H, W) -> (B, H*W, C)
        return x.reshape(b, c, h * w).permute(0, 2, 1)

    q = tokens(F.conv2d(query, block.encode_query.weight, block.encode_query.bias))
    k = tokens(F.conv2d(key, block.encode_key.weight, block.encode_key.bias))
    v = tokens(F.conv2d(key, block.encode_value.weight, block.encode_value.bias))
    attn = torch.softmax(q @ k.transpose(1, 2) / c**0.5, dim=-1)
    x = tokens(query) + attn @ v
    y = F.layer_norm(x, (c, ), block.norm2.weight, block.norm2.bias)
    y = F.linear(F.gelu(F.linear(y, block.mlp.fc1.weight, block.mlp.fc1.bias)),
                 block.mlp.fc2.weight, block.mlp.fc2.bias)
    return (x + y).permute(0, 2, 1).reshape(b, c, h, w)


def test_forward_is_sho_wiring(model):
    """One P2; hand head on the raw hand RoI; CR(query = object RoI, key = intersection RoI,
    zeroed without overlap) before the object head; no object-to-hand block."""
    images = torch.rand(2, 3, 64, 64)
    head_inputs = {}
    hooks = [head.register_forward_pre_hook(
        lambda mod, args, name=name: head_inputs.__setitem__(name, args[0]))
        for name, head in (('hand', model.hand_head), ('obj', model.obj_head))]
    with torch.no_grad():
        out = model.forward_raw(images, HAND, OBJ)
        for hook in hooks:
            hook.remove()
        hand_feats, obj_feats = model.backbone(images)
        p2 = model.neck.fpn(*hand_feats)
        idx = torch.arange(2.)[:, None]

        def crop(boxes):
            return roi_align(p2, torch.cat([idx, boxes], 1), (32, 32), 0.25, -1)

        inter = torch.cat([torch.maximum(HAND[:, :2], OBJ[:, :2]),
                           torch.minimum(HAND[:, 2:], OBJ[:, 2:])], 1)
        inter_feat = crop(inter) * torch.tensor([1., 0.])[:, None, None, None]
        expected_obj_input = _sho_cr_block(model.hand_to_obj_fusion.layers[0], crop(OBJ),
                                           inter_feat)
        obj = model.obj_head(head_inputs['obj'])
    assert all(h is o for h, o in zip(hand_feats, obj_feats))
    assert model.obj_to_hand_fusion is None
    torch.testing.assert_close(head_inputs['hand'], crop(HAND))
    torch.testing.assert_close(head_inputs['obj'], expected_obj_input, rtol=1e-5, atol=1e-5)
    hand = model.hand_head(crop(HAND))
    torch.testing.assert_close(out['hand_verts3d'], hand['hand_verts3d'])
    for key in ('obj_vote_x', 'obj_vote_y', 'obj_vote_conf'):
        torch.testing.assert_close(out[key], obj[key])


def test_cr_sends_gradient_into_the_hand_features(model):
    """SHO does not stop the gradient into the intersection features (HFL-Net does)."""
    query = torch.randn(1, 32, 32, 32)
    key = torch.randn(1, 32, 32, 32, requires_grad=True)
    model.hand_to_obj_fusion(query, key).sum().backward()
    assert key.grad is not None and key.grad.abs().sum() > 0


def test_sho_settings_and_parameter_count():
    net = MODELS.build(with_standin_mano(Config.fromfile(str(SHO_MODEL_CONFIG)).model))
    assert isinstance(net, SemiHandObject)
    assert net.hand_to_obj_fusion.layers[0].num_heads == 1
    assert net.hand_head.mano_units == 'm'
    assert net.hand_head.mano_layer.tip_ids == [728, 353, 442, 576, 694]
    # SHO's listing minus its two unread FPN smoothing convs (tests/data/sho_state_dict.txt)
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 33_299_859


def test_refuses_two_stream_parts(sho_model_cfg):
    cfg = sho_model_cfg()
    cfg['backbone']['split_stages'] = (2, 3)
    with pytest.raises(ValueError, match='split_stages=()'):
        MODELS.build(cfg)
    cfg = sho_model_cfg()
    cfg['neck']['share_weights'] = False
    with pytest.raises(ValueError, match='share_weights=True'):
        MODELS.build(cfg)
