"""The synthetic hand-object world, written in the real HO3D and DexYCB on-disk layouts.

Not needed at run time on real data; the quick start, the tests and the demos use it. It sits
on top of what it writes with (structures, the MANO writer and layer, the datasets' formats);
no package below imports it: ``ManoLayer(standin_seed=...)`` and ``SyntheticHO3DDataset`` reach
it through the registries (``HAND_MODELS``, ``DATASETS``), which import it on first use.

* stand-in MANO hand (NOT MANO): :mod:`.hand_mesh` (rest mesh), :mod:`.hand_model` (rig, blend
  shapes, pose PCA, :func:`standin_mano_arrays`, :func:`make_standin_mano`), :mod:`.hands`
  (the MANO layers the writers pose it with);
* objects: :mod:`.objects` (YCB-like primitive models and their files), :mod:`.meshes`;
* scenes: :mod:`.scene` (cameras, hand poses, grasps, per-format ranges);
* rendering: :mod:`.rasterizer` (z-buffer), :mod:`.renderer` (shading, background, labels);
* writers: :mod:`.ho3d_writer`, :mod:`.dexycb_writer`, :mod:`.parallel`;
* entry: :mod:`.world` (:func:`make_synthetic_world`, completeness marker);
* the world as a dataset: :mod:`.ho3d_dataset` (:class:`SyntheticHO3DDataset`, generated on
  first use).
"""
from .dexycb_writer import DexYCBWriter
from .hand_model import make_standin_mano, standin_mano_arrays
from .ho3d_dataset import SyntheticHO3DDataset, ensure_synthetic_ho3d
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
    'Frame', 'Mesh', 'render', 'make_standin_mano', 'standin_mano_arrays',
    'SyntheticHO3DDataset', 'ensure_synthetic_ho3d'
]
