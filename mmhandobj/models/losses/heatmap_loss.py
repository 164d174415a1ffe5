"""Dense 2D supervision of the hand heatmaps: KL divergence to Gaussian target heatmaps."""
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmhandobj.registry import MODELS


def _gaussian_logits(joints2d_boxnorm: Tensor, size: int, sigma: float) -> Tensor:
    """``-d^2 / (2 sigma^2)`` per cell, ``d`` the distance (cells) from cell centre to joint."""
    centres = torch.arange(size, dtype=joints2d_boxnorm.dtype,
                           device=joints2d_boxnorm.device) + 0.5
    cells = joints2d_boxnorm * size  # (B, J, 2) in cells
    du = (centres[None, None, :] - cells[..., 0:1]) ** 2  # (B, J, S) over columns
    dv = (centres[None, None, :] - cells[..., 1:2]) ** 2  # (B, J, S) over rows
    return -(dv[..., :, None] + du[..., None, :]) / (2 * sigma ** 2)


def gaussian_target_heatmaps(joints2d_boxnorm: Tensor, size: int, sigma: float) -> Tensor:
    """Normalised Gaussian heatmaps centred on box-normalised joints.

    Cell ``(r, c)`` has its centre at ``((c + 0.5) / size, (r + 0.5) / size)``, the convention
    of :class:`~mmhandobj.models.heads.hourglass.HourglassHeatmapNet`'s soft-argmax.

    Args:
        joints2d_boxnorm: ``(B, J, 2)`` (u, v) in [0, 1] of the box.
        size: Heatmap side in cells.
        sigma: Gaussian standard deviation, in cells.

    Returns:
        ``(B, J, size, size)`` heatmaps, each summing to 1.
    """
    logits = _gaussian_logits(joints2d_boxnorm, size, sigma)
    return logits.flatten(2).softmax(dim=2).view_as(logits)


@MODELS.register_module()
class HeatmapKLLoss(nn.Module):
    """``loss_weight * mean_{B, J} KL(q || softmax(logits))``, q = Gaussian target heatmap.

    Not part of the HFL-Net reference (which supervises only the soft-argmax of the heatmaps);
    an optional dense term that gives every cell a gradient from the first iteration, so that
    a small model learns to place joints from few images (docs/benchmarks.md, factors tried).
    Its minimum is 0 (prediction equal to the target distribution).

    Args:
        sigma (float): Target standard deviation, in heatmap cells.
        loss_weight (float): Multiplier.
    """

    def __init__(self, sigma: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if sigma <= 0:
            raise ValueError(f'HeatmapKLLoss: sigma must be > 0 cells, got {sigma}')
        self.sigma = sigma
        self.loss_weight = loss_weight

    def forward(self, logits: Tensor, joints2d_boxnorm: Tensor) -> Tensor:
        """Args: ``logits`` ``(B, J, S, S)`` pre-softmax scores, ``joints2d_boxnorm``
        ``(B, J, 2)`` joints normalised to the box.

        Returns a scalar tensor.
        """
        b, j, h, w = logits.shape
        if h != w or joints2d_boxnorm.shape != (b, j, 2):
            raise ValueError(f'HeatmapKLLoss: needs square (B, J, S, S) logits and (B, J, 2) '
                             f'joints, got {tuple(logits.shape)} and '
                             f'{tuple(joints2d_boxnorm.shape)}')
        log_target = F.log_softmax(
            _gaussian_logits(joints2d_boxnorm.to(logits.dtype), h, self.sigma).flatten(2), dim=2)
        log_pred = F.log_softmax(logits.flatten(2), dim=2)
        kl = (log_target.exp() * (log_target - log_pred)).sum(dim=2)
        return self.loss_weight * kl.mean()
