from .hand_object_inferencer import MODEL_ZOO, HandObjectInferencer, open_inputs
from .meshes import read_obj_mesh, write_glb, write_ply
from .tracking import BoxTracker, ObjectModelCache

__all__ = ['MODEL_ZOO', 'HandObjectInferencer', 'open_inputs', 'read_obj_mesh', 'write_glb',
           'write_ply', 'BoxTracker', 'ObjectModelCache']
