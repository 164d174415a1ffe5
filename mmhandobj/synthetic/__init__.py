"""Synthetic hand-object world written in the real HO3D and DexYCB on-disk layouts."""
from .dexycb_writer import DexYCBWriter
from .hand_model import make_standin_mano, standin_mano_arrays
from .ho3d_writer import HO3D_DEPTH_SCALE, HO3DWriter, encode_depth, sequence_object
from .objects import HO3D_OBJECTS, ObjectModel, build_object
from .rasterizer import Raster, rasterize
from .renderer import Frame, Mesh, render
from .world import (
    COMPLETE_MARKER,
    WORLD_VERSION,
    is_complete_world,
    make_synthetic_world,
    read_world_summary,
)

__all__ = [
    'make_synthetic_world', 'is_complete_world', 'read_world_summary', 'COMPLETE_MARKER',
    'WORLD_VERSION', 'HO3DWriter',
    'DexYCBWriter', 'HO3D_DEPTH_SCALE', 'encode_depth', 'sequence_object', 'HO3D_OBJECTS',
    'ObjectModel', 'build_object', 'Raster', 'rasterize',
    'Frame', 'Mesh', 'render', 'make_standin_mano', 'standin_mano_arrays'
]
