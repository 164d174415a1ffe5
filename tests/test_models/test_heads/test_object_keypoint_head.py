import pytest
import torch

from mmhandobj.models.heads import ObjectKeypointHead
from mmhandobj.models.heads.object_keypoint_head import decode_votes
from mmhandobj.registry import MODELS


def test_parameter_count_and_authors_keys(authors_keys):
    head = ObjectKeypointHead()
    n_params = sum(p.numel() for p in head.parameters())
    assert n_params == 1_002_687
    ours = {k: tuple(v.shape) for k, v in head.state_dict().items()}
    assert ours == authors_keys('obj_head.')


def test_forward_shapes_and_ranges():
    head = MODELS.build(dict(type='ObjectKeypointHead'))
    head.init_weights()
    head.eval()
    out = head(torch.randn(2, 256, 32, 32))
    assert set(out) == {'obj_vote_x', 'obj_vote_y', 'obj_vote_conf'}
    for v in out.values():
        assert v.shape == (2, 32, 32, 21)
        assert isinstance(v, torch.Tensor)
    assert ((out['obj_vote_conf'] > 0) & (out['obj_vote_conf'] < 1)).all()


def test_decode_votes_matches_explicit_loop():
    torch.manual_seed(0)
    b, k, h, w = 2, 3, 4, 5
    raw = torch.randn(b, 3 * k, h, w)
    out = decode_votes(raw, k)
    for i in range(b):
        for r in range(h):
            for c in range(w):
                for j in range(k):
                    conf = 1.0 / (1.0 + torch.exp(-raw[i, j, r, c]))
                    x = raw[i, k + j, r, c] / 10 + (c + 0.5) / w
                    y = raw[i, 2 * k + j, r, c] / 10 + (r + 0.5) / h
                    assert out['obj_vote_conf'][i, r, c, j] == pytest.approx(conf.item(), abs=1e-6)
                    assert out['obj_vote_x'][i, r, c, j] == pytest.approx(x.item(), abs=1e-6)
                    assert out['obj_vote_y'][i, r, c, j] == pytest.approx(y.item(), abs=1e-6)


def test_init_weights_follow_reference():
    torch.manual_seed(0)
    head = ObjectKeypointHead()
    head.init_weights()
    assert head.conv1_2.weight.std().item() == pytest.approx(1e-3, rel=0.05)
    assert head.out_conv.bias.abs().max() == 0
    assert (head.bn2_1.weight == 1).all() and (head.bn2_1.bias == 0).all()


def test_loss_keys_weights_and_gradient():
    torch.manual_seed(0)
    head = ObjectKeypointHead(loss_reg=dict(type='VoteRegressionLoss', loss_weight=2.0),
                              loss_conf=dict(type='VoteConfidenceLoss', loss_weight=3.0))
    x = torch.randn(2, 256, 32, 32, requires_grad=True)
    preds = head(x)
    gt = torch.rand(2, 21, 2)
    mask = (torch.rand(2, 32, 32) > 0.5).float()
    losses = head.loss(preds, gt, mask)
    assert set(losses) == {'loss_obj_reg', 'loss_obj_conf'}
    m = mask[..., None]
    reg = ((preds['obj_vote_x'] - gt[:, None, None, :, 0]) * m).abs().mean() + \
        ((preds['obj_vote_y'] - gt[:, None, None, :, 1]) * m).abs().mean()
    assert losses['loss_obj_reg'].item() == pytest.approx(2.0 * reg.item(), rel=1e-5)
    sum(losses.values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
