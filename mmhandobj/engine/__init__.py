from .atomic_checkpoint_hook import AtomicCheckpointHook
from .metric_out_dir_hook import MetricOutDirHook
from .non_finite_grad_hook import NonFiniteGradHook
from .optimize_for_inference_hook import OptimizeForInferenceHook
from .process_settings_hook import ProcessSettingsHook, apply_process_settings
from .rng_state_hook import RNGStateHook
from .validate_before_train_hook import ValidateBeforeTrainHook
from .visualization_hook import HandObjectVisualizationHook

__all__ = [
    'AtomicCheckpointHook', 'HandObjectVisualizationHook', 'MetricOutDirHook',
    'NonFiniteGradHook', 'OptimizeForInferenceHook', 'ProcessSettingsHook', 'RNGStateHook',
    'ValidateBeforeTrainHook', 'apply_process_settings'
]
