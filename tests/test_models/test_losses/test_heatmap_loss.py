import math

import pytest
import torch

from mmhandobj.models.heads.hourglass import HourglassHeatmapNet
from mmhandobj.models.losses import HeatmapKLLoss, gaussian_target_heatmaps
from mmhandobj.registry import MODELS


def test_gaussian_targets_match_a_cell_loop():
    joints = torch.tensor([[[0.30, 0.70], [0.05, 0.50]]])
    size, sigma = 8, 1.3
    target = gaussian_target_heatmaps(joints, size, sigma)
    for j in range(2):
        u, v = (joints[0, j] * size).tolist()
        cells = torch.zeros(size, size, dtype=torch.float64)
        for row in range(size):
            for col in range(size):
                cells[row, col] = math.exp(-((col + 0.5 - u) ** 2 + (row + 0.5 - v) ** 2)
                                           / (2 * sigma ** 2))
        torch.testing.assert_close(target[0, j].double(), cells / cells.sum())


def test_targets_follow_the_soft_argmax_convention():
    # An interior joint: the soft-argmax of its target heatmap is the joint itself (cell
    # centres at (c + 0.5) / S, as HourglassHeatmapNet.soft_argmax). A target built on cell
    # corners instead would be half a cell off.
    size = 32
    net = HourglassHeatmapNet(num_joints=3, size=size)
    joints = torch.tensor([[[0.5, 0.5], [0.31, 0.62], [0.7, 0.4]]])
    uv = net.soft_argmax(gaussian_target_heatmaps(joints, size, sigma=1.0))
    torch.testing.assert_close(uv, joints, atol=1e-5, rtol=0)


def test_kl_is_zero_at_the_target_and_positive_elsewhere():
    loss = MODELS.build(dict(type='HeatmapKLLoss', sigma=1.0, loss_weight=3.0))
    joints = torch.tensor([[[0.4, 0.6]], [[0.8, 0.2]]])
    target = gaussian_target_heatmaps(joints, 16, 1.0)
    # logits equal to log(target) up to a per-map constant reproduce the target exactly.
    log_target = torch.log(target.clamp_min(1e-30))
    assert loss(log_target + 5.0, joints).item() == pytest.approx(0.0, abs=1e-5)
    uniform = torch.zeros(2, 1, 16, 16)
    entropy = -(target * log_target).flatten(1).sum(1).mean()
    # KL(q || uniform) = log(S^2) - H(q), times the weight.
    assert loss(uniform, joints).item() == pytest.approx(
        3.0 * (math.log(256) - entropy.item()), rel=1e-5)


def test_gradient_raises_the_logit_of_the_joint_cell():
    loss = HeatmapKLLoss(sigma=0.5)
    logits = torch.zeros(1, 1, 8, 8, requires_grad=True)
    loss(logits, torch.tensor([[[2.5 / 8, 5.5 / 8]]])).backward()
    # descent direction = -grad: largest at row 5, column 2.
    assert int((-logits.grad).flatten().argmax()) == 5 * 8 + 2


def test_rejects_bad_shapes_and_sigma():
    with pytest.raises(ValueError, match='sigma'):
        HeatmapKLLoss(sigma=0.0)
    with pytest.raises(ValueError, match='joints'):
        HeatmapKLLoss()(torch.zeros(1, 2, 8, 8), torch.zeros(1, 3, 2))
