"""YCB object models: point clouds, the 21 box keypoints and diameters.

:class:`ObjectModelBank` is the one reader of object models, shared by the datasets, the
object pose metric and the inference API. Both datasets use the YCB-Video models. A model root
is a folder holding one sub-folder per object, named by its YCB name
(``<root>/<name>/points.xyz``): ``<YCB_Video_Models>/models`` for HO3D, ``<DexYCB>/models`` for
DexYCB. ``points.xyz`` is plain text, one ``x y z`` point per line, metres, model frame.
"""
import os
from typing import Dict, Sequence

import numpy as np

from mmhandobj.structures import DIAMETER_MODES, bbox21_from_points, object_diameter


def load_points_xyz(path: str) -> np.ndarray:
    """Read a ``points.xyz`` file.

    Args:
        path: File with one ``x y z`` point per line (metres); extra columns are ignored.

    Returns:
        ``(N, 3)`` float64 points, exactly as written in the file.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'object model points not found: {path}')
    try:
        points = np.loadtxt(path, dtype=np.float64, ndmin=2)
    except ValueError as err:
        raise ValueError(f'{path}: expected lines of numbers "x y z" ({err})') from err
    if points.shape[0] == 0 or points.shape[1] < 3:
        raise ValueError(f'{path}: expected at least one "x y z" line, got array shape '
                         f'{points.shape}')
    return points[:, :3]


class ObjectModelBank:
    """Lazily loaded point clouds, box keypoints and diameters of the YCB objects.

    The dataset-side quantities (:meth:`points`, :meth:`keypoints3d`, :meth:`diameter`) use the
    points in float32, as the reference loads them; the metric scores with the file's float64
    values (:meth:`points64`).

    Args:
        model_root: Folder with one ``<name>/points.xyz`` per object.
        diameter_mode: ``'aabb'`` (reference: AABB diagonal) or ``'max'`` (true diameter; alias
            ``'max_extent'``), see :func:`mmhandobj.structures.object_diameter`.
    """

    def __init__(self, model_root: str, diameter_mode: str = 'aabb') -> None:
        if diameter_mode not in DIAMETER_MODES:
            raise ValueError(f'diameter_mode must be one of {DIAMETER_MODES}, got '
                             f'{diameter_mode!r}')
        self.model_root = model_root
        self.diameter_mode = diameter_mode
        self._points64: Dict[str, np.ndarray] = {}
        self._points: Dict[str, np.ndarray] = {}
        self._kps3d: Dict[str, np.ndarray] = {}
        self._diameter: Dict[str, float] = {}

    def check(self, names: Sequence[str]) -> None:
        """Load every named model now, with a clear error for an unknown object name."""
        for name in names:
            self.points(name)

    def points64(self, name: str) -> np.ndarray:
        """``(N, 3)`` float64 model points of object ``name`` as in the file (metres)."""
        if name not in self._points64:
            path = os.path.join(self.model_root, name, 'points.xyz')
            if not os.path.isfile(path):
                raise KeyError(f'unknown object name {name!r}: no model at {path} '
                               f'(obj_model_root={self.model_root!r})')
            self._points64[name] = load_points_xyz(path)
        return self._points64[name]

    def points(self, name: str) -> np.ndarray:
        """``(N, 3)`` float32 model points of object ``name`` (metres, model frame)."""
        if name not in self._points:
            self._points[name] = self.points64(name).astype(np.float32)
        return self._points[name]

    def keypoints3d(self, name: str) -> np.ndarray:
        """``(21, 3)`` float32 box keypoints of object ``name`` (metres, model frame)."""
        if name not in self._kps3d:
            self._kps3d[name] = bbox21_from_points(self.points(name))
        return self._kps3d[name]

    def diameter(self, name: str) -> float:
        """Diameter of object ``name`` in metres (see ``diameter_mode``)."""
        if name not in self._diameter:
            self._diameter[name] = object_diameter(self.points(name), self.diameter_mode)
        return self._diameter[name]
