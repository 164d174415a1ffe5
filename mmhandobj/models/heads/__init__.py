from .hand_mano_head import HandMANOHead, HeatmapFeatureEncoder, MANOParamRegressor
from .hourglass import Hourglass, HourglassHeatmapNet, PreActBottleneck
from .object_keypoint_head import ObjectKeypointHead, decode_votes
from .pnp import best_votes, select_votes, solve_object_pose
from .weight_init import hfl_head_init_cfg

__all__ = [
    'HandMANOHead', 'HeatmapFeatureEncoder', 'Hourglass', 'HourglassHeatmapNet',
    'MANOParamRegressor', 'ObjectKeypointHead', 'PreActBottleneck', 'best_votes',
    'decode_votes', 'hfl_head_init_cfg', 'select_votes', 'solve_object_pose'
]
