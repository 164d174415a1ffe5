"""Losses of the per-cell object keypoint votes (HFL-Net / Semi-Hand-Object ``ObjectLoss``).

Votes and targets are in object-box-normalised units ((0, 0) top-left, (1, 1) bottom-right of
the object box). ``M`` is the object mask on the vote grid, broadcast over the keypoints; the
ground-truth keypoints are broadcast over all cells.
"""
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmhandobj.registry import MODELS


def _masked_votes_and_targets(vote_x: Tensor, vote_y: Tensor, target: Tensor,
                              mask: Tensor) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Multiply votes and broadcast targets by the mask.

    Args:
        vote_x, vote_y: ``(B, H, W, K)`` votes.
        target: ``(B, K, 2)`` ground-truth keypoints (x, y).
        mask: ``(B, H, W)`` object mask (1 = object), float.

    Returns:
        ``M * vote_x``, ``M * vote_y``, ``M * gt_x``, ``M * gt_y``, each ``(B, H, W, K)``,
        and ``M`` ``(B, H, W, 1)``.
    """
    b, h, w, k = vote_x.shape
    if vote_y.shape != vote_x.shape:
        raise ValueError(f'vote_y shape {tuple(vote_y.shape)} != vote_x shape '
                         f'{tuple(vote_x.shape)}')
    if target.shape != (b, k, 2):
        raise ValueError(f'obj_kps2d target must have shape {(b, k, 2)}, got '
                         f'{tuple(target.shape)}')
    if mask.shape != (b, h, w):
        raise ValueError(f'obj_mask must have shape {(b, h, w)}, got {tuple(mask.shape)}')
    m = mask.to(vote_x.dtype)[..., None]
    gt_x = target[:, None, None, :, 0].to(vote_x.dtype)
    gt_y = target[:, None, None, :, 1].to(vote_x.dtype)
    return vote_x * m, vote_y * m, gt_x * m, gt_y * m, m


@MODELS.register_module()
class VoteRegressionLoss(nn.Module):
    """``loss_weight * (L1(M * x, M * gx) + L1(M * y, M * gy))``, L1 = mean over B*H*W*K.

    Cells outside the mask contribute zero but still count in the mean (reference behaviour).

    Args:
        loss_weight (float): Multiplier (reference: 500).
    """

    def __init__(self, loss_weight: float = 500.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, vote_x: Tensor, vote_y: Tensor, target: Tensor, mask: Tensor) -> Tensor:
        """Args: votes ``(B, H, W, K)``, target ``(B, K, 2)``, mask ``(B, H, W)``.

        Returns: scalar tensor.
        """
        px, py, gx, gy, _ = _masked_votes_and_targets(vote_x, vote_y, target, mask)
        return self.loss_weight * (F.l1_loss(px, gx) + F.l1_loss(py, gy))


@MODELS.register_module()
class VoteConfidenceLoss(nn.Module):
    """``loss_weight * L1(conf, c*)`` with the detached target ``c* = M * exp(-d)``.

    ``d = ||(M * x, M * y) - (M * gx, M * gy)||_2`` is the masked vote error, computed exactly
    as the reference (so for a binary mask ``c* = M * exp(-||vote - gt||)``). The confidence is
    *not* masked: cells outside the object are pushed towards 0.

    Args:
        loss_weight (float): Multiplier (reference: 100 = 500 / 5).
    """

    def __init__(self, loss_weight: float = 100.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, vote_x: Tensor, vote_y: Tensor, vote_conf: Tensor, target: Tensor,
                mask: Tensor) -> Tensor:
        """Args: votes and confidences ``(B, H, W, K)``, target ``(B, K, 2)``, mask ``(B, H, W)``.

        Returns: scalar tensor.
        """
        if vote_conf.shape != vote_x.shape:
            raise ValueError(f'vote_conf shape {tuple(vote_conf.shape)} != vote_x shape '
                             f'{tuple(vote_x.shape)}')
        with torch.no_grad():
            px, py, gx, gy, m = _masked_votes_and_targets(vote_x, vote_y, target, mask)
            dist = torch.sqrt((py - gy) ** 2 + (px - gx) ** 2)
            conf_target = torch.exp(-dist) * m
        return self.loss_weight * F.l1_loss(vote_conf, conf_target)
