from .metric_out_dir_hook import MetricOutDirHook
from .non_finite_grad_hook import NonFiniteGradHook
from .optimize_for_inference_hook import OptimizeForInferenceHook
from .rng_state_hook import RNGStateHook
from .validate_before_train_hook import ValidateBeforeTrainHook
from .visualization_hook import HandObjectVisualizationHook

__all__ = [
    'MetricOutDirHook', 'NonFiniteGradHook', 'OptimizeForInferenceHook', 'RNGStateHook',
    'ValidateBeforeTrainHook', 'HandObjectVisualizationHook'
]
