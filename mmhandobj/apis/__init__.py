from .inference import as_intrinsics, build_test_pipeline, inference_handobj, init_model
from .inferencers import HandObjectInferencer
from .setup_env import register_all_modules

__all__ = ['as_intrinsics', 'build_test_pipeline', 'inference_handobj', 'init_model',
           'HandObjectInferencer', 'register_all_modules']
