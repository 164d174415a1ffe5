"""The synthetic hand-object world, written in the real HO3D and DexYCB on-disk layouts.

Not needed at run time on real data; the quick start, the tests and the demos use it.

* stand-in MANO hand (NOT MANO): :mod:`.hand_mesh` (rest mesh), :mod:`.hand_model` (rig, blend
  shapes, pose PCA, :func:`standin_mano_arrays`, :func:`make_standin_mano`), :mod:`.hands`
  (the MANO layers the writers pose it with);
* objects: :mod:`.objects` (YCB-like primitive models and their files), :mod:`.meshes`;
* scenes: :mod:`.scene` (cameras, hand poses, grasps, per-format ranges);
* rendering: :mod:`.rasterizer` (z-buffer), :mod:`.renderer` (shading, background, labels);
* writers: :mod:`.ho3d_writer`, :mod:`.dexycb_writer`, :mod:`.parallel`;
* entry: :mod:`.world` (:func:`make_synthetic_world`, completeness marker).
"""
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
