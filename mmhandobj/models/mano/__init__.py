"""MANO hand model: chumpy-free loader and writer, differentiable layer, rotations."""
from .mano_layer import ManoLayer
from .mano_loader import MANO_SHAPES, MANOFileError, MANOUnpickler, load_mano_model
from .mano_writer import write_mano_file
from .rotations import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    matrix_to_quaternion,
    robust_rot6d_to_matrix,
    rot6d_to_matrix,
)

__all__ = [
    'ManoLayer', 'MANO_SHAPES', 'MANOFileError', 'MANOUnpickler', 'load_mano_model',
    'write_mano_file',
    'axis_angle_to_matrix', 'matrix_to_axis_angle', 'matrix_to_quaternion',
    'robust_rot6d_to_matrix', 'rot6d_to_matrix'
]
