"""Weighted mean-squared error."""
import torch.nn.functional as F
from torch import Tensor, nn

from mmhandobj.registry import MODELS


@MODELS.register_module()
class MSELoss(nn.Module):
    """``loss_weight * mean((pred - target) ** 2)`` over all elements (``F.mse_loss``).

    The HFL-Net reference uses it for MANO vertices and joints (metres), rotation matrices,
    betas and box-normalised 2D joints.

    Args:
        loss_weight (float): Multiplier of the mean.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = loss_weight

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """Args: ``pred`` and ``target`` of the same shape. Returns a scalar tensor."""
        if pred.shape != target.shape:
            raise ValueError(f'MSELoss: pred shape {tuple(pred.shape)} != target shape '
                             f'{tuple(target.shape)}')
        return self.loss_weight * F.mse_loss(pred, target)
