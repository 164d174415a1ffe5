from .heatmap_loss import HeatmapKLLoss, gaussian_target_heatmaps
from .keypoint_vote_loss import VoteConfidenceLoss, VoteRegressionLoss
from .mse_loss import MSELoss

__all__ = ['HeatmapKLLoss', 'MSELoss', 'VoteConfidenceLoss', 'VoteRegressionLoss',
           'gaussian_target_heatmaps']
