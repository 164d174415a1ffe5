from .keypoint_vote_loss import VoteConfidenceLoss, VoteRegressionLoss
from .mse_loss import MSELoss

__all__ = ['MSELoss', 'VoteConfidenceLoss', 'VoteRegressionLoss']
