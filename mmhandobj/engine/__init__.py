from .metric_out_dir_hook import MetricOutDirHook
from .rng_state_hook import RNGStateHook
from .validate_before_train_hook import ValidateBeforeTrainHook
from .visualization_hook import HandObjectVisualizationHook

__all__ = [
    'MetricOutDirHook', 'RNGStateHook', 'ValidateBeforeTrainHook', 'HandObjectVisualizationHook'
]
