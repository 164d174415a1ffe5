import math

import pytest
import torch

from mmhandobj.models.losses import VoteConfidenceLoss, VoteRegressionLoss
from mmhandobj.registry import MODELS


def test_mse_loss_hand_computed():
    loss = MODELS.build(dict(type='MSELoss', loss_weight=2.0))
    pred = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    # mean of squares = (1 + 4 + 9 + 16) / 4 = 7.5, times 2.
    assert loss(pred, torch.zeros(2, 2)).item() == pytest.approx(15.0)
    with pytest.raises(ValueError, match='shape'):
        loss(pred, torch.zeros(4))


def _tiny_votes():
    # B=1, H=1, W=2, K=1; cell 0 inside the object, cell 1 outside.
    vx = torch.tensor([0.2, 0.9]).view(1, 1, 2, 1)
    vy = torch.tensor([0.4, 0.1]).view(1, 1, 2, 1)
    gt = torch.tensor([[[0.5, 0.5]]])
    return vx, vy, gt


def test_vote_regression_loss_hand_computed():
    vx, vy, gt = _tiny_votes()
    mask = torch.tensor([[[1.0, 0.0]]])
    # x: (|0.2 - 0.5| + 0) / 2 = 0.15; y: (|0.4 - 0.5| + 0) / 2 = 0.05.
    loss = VoteRegressionLoss(loss_weight=500.0)(vx, vy, gt, mask)
    assert loss.item() == pytest.approx(500.0 * 0.2, rel=1e-6)


def test_vote_confidence_loss_hand_computed():
    vx, vy, gt = _tiny_votes()
    conf = torch.tensor([0.7, 0.3]).view(1, 1, 2, 1)
    mask = torch.tensor([[[1.0, 0.0]]])
    target0 = math.exp(-math.sqrt(0.3 ** 2 + 0.1 ** 2))
    # Cell 1 is outside the mask: its target is 0 but it still counts (conf is not masked).
    expected = 100.0 * (abs(0.7 - target0) + abs(0.3 - 0.0)) / 2
    loss = VoteConfidenceLoss(loss_weight=100.0)(vx, vy, conf, gt, mask)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_vote_confidence_soft_mask_follows_reference_formula():
    vx, vy, gt = _tiny_votes()
    conf = torch.tensor([0.7, 0.3]).view(1, 1, 2, 1)
    mask = torch.tensor([[[0.5, 0.25]]])
    # Reference: distance between masked votes and masked targets, target times the mask.
    targets = [m * math.exp(-m * math.hypot(x - 0.5, y - 0.5))
               for m, x, y in ((0.5, 0.2, 0.4), (0.25, 0.9, 0.1))]
    expected = (abs(0.7 - targets[0]) + abs(0.3 - targets[1])) / 2
    loss = VoteConfidenceLoss(loss_weight=1.0)(vx, vy, conf, gt, mask)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_vote_confidence_target_is_detached():
    vx, vy, gt = _tiny_votes()
    vx.requires_grad_(True)
    conf = torch.tensor([0.7, 0.3]).view(1, 1, 2, 1).requires_grad_(True)
    VoteConfidenceLoss()(vx, vy, conf, gt, torch.ones(1, 1, 2)).backward()
    assert vx.grad is None
    assert conf.grad is not None and conf.grad.abs().sum() > 0


def test_vote_losses_reject_bad_shapes():
    vx, vy, gt = _tiny_votes()
    with pytest.raises(ValueError, match='obj_mask'):
        VoteRegressionLoss()(vx, vy, gt, torch.ones(1, 2, 2))
    with pytest.raises(ValueError, match='obj_kps2d'):
        VoteRegressionLoss()(vx, vy, gt[..., :1], torch.ones(1, 1, 2))
