from .inference import as_intrinsics, build_test_pipeline, inference_handobj, init_model
from .inferencers import HandObjectInferencer

__all__ = ['as_intrinsics', 'build_test_pipeline', 'inference_handobj', 'init_model',
           'HandObjectInferencer']
