"""YCB-like object models for the synthetic world: primitive meshes with real YCB names.

Each of the 21 DexYCB classes (``_YCB_CLASSES`` ids 1..21, which include the 10 HO3D objects)
is stood in for by a box, an elliptic cylinder or an ellipsoid of roughly the real object's
size, centred on its model origin. Faces carry a class colour plus an asymmetric pattern (a
light "label" patch and a dark band) so that the object's class and its orientation are both
visible in a render.

Files written per object (as in the YCB-Video model download, ``docs/data_formats.md`` D5):
``points.xyz`` (2,620 surface points, ``x y z`` with 6 decimals, metres, model frame),
``textured_simple.obj`` (+ ``textured_simple.obj.mtl`` and ``texture_map.png``, a palette
texture holding the face colours).
"""
import colorsys
import os
from dataclasses import dataclass
from typing import Dict, List, Tuple

import cv2
import numpy as np

from mmhandobj.structures import YCB_CLASS_IDS

from .meshes import sample_surface, vertex_normals

#: The 10 objects of HO3D.
HO3D_OBJECTS: Tuple[str, ...] = (
    '003_cracker_box', '004_sugar_box', '006_mustard_bottle', '010_potted_meat_can',
    '011_banana', '019_pitcher_base', '021_bleach_cleanser', '025_mug', '035_power_drill',
    '037_scissors')

#: Number of points written to ``points.xyz`` (the real files hold 2,620-2,621).
NUM_MODEL_POINTS = 2620

# name -> (kind, size in metres). box: full extents (x, y, z); cylinder: (radius x, radius y,
# height along z); ellipsoid: semi-axes (x, y, z). The long axis is z where there is one.
_SHAPES: Dict[str, Tuple[str, Tuple[float, float, float]]] = {
    '002_master_chef_can': ('cylinder', (0.051, 0.051, 0.14)),
    '003_cracker_box': ('box', (0.16, 0.07, 0.21)),
    '004_sugar_box': ('box', (0.09, 0.045, 0.175)),
    '005_tomato_soup_can': ('cylinder', (0.034, 0.034, 0.10)),
    '006_mustard_bottle': ('cylinder', (0.048, 0.03, 0.19)),
    '007_tuna_fish_can': ('cylinder', (0.043, 0.043, 0.033)),
    '008_pudding_box': ('box', (0.11, 0.035, 0.089)),
    '009_gelatin_box': ('box', (0.085, 0.028, 0.073)),
    '010_potted_meat_can': ('box', (0.10, 0.058, 0.083)),
    '011_banana': ('ellipsoid', (0.022, 0.018, 0.095)),
    '019_pitcher_base': ('cylinder', (0.07, 0.07, 0.24)),
    '021_bleach_cleanser': ('cylinder', (0.05, 0.033, 0.25)),
    '024_bowl': ('ellipsoid', (0.06, 0.06, 0.06)),
    '025_mug': ('cylinder', (0.04, 0.04, 0.08)),
    '035_power_drill': ('box', (0.05, 0.18, 0.19)),
    '036_wood_block': ('box', (0.085, 0.085, 0.2)),
    '037_scissors': ('box', (0.08, 0.014, 0.2)),
    '040_large_marker': ('cylinder', (0.009, 0.009, 0.12)),
    '051_large_clamp': ('box', (0.1, 0.035, 0.2)),
    '052_extra_large_clamp': ('box', (0.16, 0.035, 0.2)),
    '061_foam_brick': ('box', (0.05, 0.05, 0.075)),
}


@dataclass(frozen=True)
class ObjectModel:
    """A synthetic object model in its model frame (metres).

    Attributes:
        name: YCB model folder name, e.g. ``'006_mustard_bottle'``.
        class_id: DexYCB ``_YCB_CLASSES`` id (1..21).
        kind: ``'box'``, ``'cylinder'`` or ``'ellipsoid'``.
        size: Shape parameters in metres (see the module's ``_SHAPES`` comment).
        vertices: ``(V, 3)`` float64 mesh vertices, metres.
        faces: ``(F, 3)`` int64 triangles, counter-clockwise seen from outside.
        face_colors: ``(F, 3)`` uint8 RGB colour per face.
        points: ``(2620, 3)`` float64 surface points (the ``points.xyz`` content).
    """

    name: str
    class_id: int
    kind: str
    size: Tuple[float, float, float]
    vertices: np.ndarray
    faces: np.ndarray
    face_colors: np.ndarray
    points: np.ndarray

    def contains(self, points: np.ndarray) -> np.ndarray:
        """Tell which points lie inside the solid.

        Args:
            points: ``(N, 3)`` points in the model frame, metres.

        Returns:
            ``(N,)`` bool, True inside (the mesh's polygonal approximation is ignored).
        """
        a, b, c = self.size
        x, y, z = points[:, 0], points[:, 1], points[:, 2]
        if self.kind == 'box':
            return (np.abs(x) <= a / 2) & (np.abs(y) <= b / 2) & (np.abs(z) <= c / 2)
        if self.kind == 'cylinder':
            return ((x / a) ** 2 + (y / b) ** 2 <= 1.0) & (np.abs(z) <= c / 2)
        return (x / a) ** 2 + (y / b) ** 2 + (z / c) ** 2 <= 1.0

    def corners(self) -> np.ndarray:
        """The 8 corners of the axis-aligned box of :attr:`points` (HO3D ``objCorners3DRest``).

        Corner ``i = 4a + 2b + c`` takes the max along x if ``a``, along y if ``b``, along z if
        ``c`` (the min otherwise), which fits the HO3D edge list (faces 0-1-3-2, 4-5-7-6).

        Returns:
            ``(8, 3)`` float64 corners, metres, model frame.
        """
        lo, hi = self.points.min(axis=0), self.points.max(axis=0)
        bits = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], dtype=bool)
        return np.where(bits, hi, lo)


def _class_color(class_id: int) -> np.ndarray:
    """Saturated RGB colour of a class, hues spread around the wheel. Returns (3,) float 0..255."""
    hue = ((class_id - 1) * 0.38196601) % 1.0
    return np.array(colorsys.hsv_to_rgb(hue, 0.75, 0.85)) * 255.0


def _grid(n_u: int, n_v: int) -> Tuple[np.ndarray, np.ndarray]:
    """A (n_u+1)x(n_v+1) vertex grid over [0,1]^2 and its 2*n_u*n_v triangles (CCW in u-v)."""
    u, v = np.meshgrid(np.linspace(0, 1, n_u + 1), np.linspace(0, 1, n_v + 1), indexing='ij')
    idx = np.arange((n_u + 1) * (n_v + 1)).reshape(n_u + 1, n_v + 1)
    a, b = idx[:-1, :-1].ravel(), idx[1:, :-1].ravel()
    c, d = idx[1:, 1:].ravel(), idx[:-1, 1:].ravel()
    faces = np.concatenate([np.stack([a, b, c], 1), np.stack([a, c, d], 1)])
    return np.stack([u.ravel(), v.ravel()], 1), faces


def _box_mesh(size: Tuple[float, float, float], n: int = 4) -> Tuple[np.ndarray, np.ndarray]:
    """Box with each side split into an n x n grid; vertices are not shared between sides."""
    half = np.asarray(size) / 2
    uv, grid_faces = _grid(n, n)
    verts, faces = [], []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            e1, e2 = (axis + 1) % 3, (axis + 2) % 3
            side = np.zeros((len(uv), 3))
            side[:, axis] = sign * half[axis]
            side[:, e1] = (uv[:, 0] * 2 - 1) * half[e1]
            side[:, e2] = (uv[:, 1] * 2 - 1) * half[e2]
            tri = grid_faces if sign > 0 else grid_faces[:, ::-1]
            faces.append(tri + sum(len(v) for v in verts))
            verts.append(side)
    return np.concatenate(verts), np.concatenate(faces)


def _cylinder_mesh(size: Tuple[float, float, float], segments: int = 24,
                   rings: int = 4) -> Tuple[np.ndarray, np.ndarray]:
    """Elliptic cylinder along z with closed caps."""
    rx, ry, h = size
    uv, grid_faces = _grid(segments, rings)
    theta = uv[:, 0] * 2 * np.pi
    side = np.stack([rx * np.cos(theta), ry * np.sin(theta), (uv[:, 1] - 0.5) * h], 1)
    verts, faces = [side], [grid_faces]
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([rx * np.cos(ang), ry * np.sin(ang)], 1)
    for sign in (-1.0, 1.0):
        base = sum(len(v) for v in verts)
        cap = np.concatenate([[[0.0, 0.0]], ring])
        verts.append(np.concatenate([cap, np.full((segments + 1, 1), sign * h / 2)], 1))
        i = np.arange(segments)
        tri = np.stack([np.zeros(segments, int), 1 + i, 1 + (i + 1) % segments], 1)
        faces.append((tri if sign > 0 else tri[:, ::-1]) + base)
    return np.concatenate(verts), np.concatenate(faces)


def _ellipsoid_mesh(size: Tuple[float, float, float], segments: int = 24,
                    rings: int = 12) -> Tuple[np.ndarray, np.ndarray]:
    """UV ellipsoid; the poles are collapsed rows of the grid (zero-area faces are dropped)."""
    uv, grid_faces = _grid(segments, rings)
    theta, phi = uv[:, 0] * 2 * np.pi, uv[:, 1] * np.pi
    unit = np.stack([np.sin(phi) * np.cos(theta), np.sin(phi) * np.sin(theta), -np.cos(phi)], 1)
    verts = unit * np.asarray(size)
    tri = verts[grid_faces]
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    return verts, grid_faces[area > 1e-12]


def _pattern_colors(centroids: np.ndarray, extent: np.ndarray, class_id: int) -> np.ndarray:
    """Face colours: class colour, a light patch on the (+x, +z) quadrant, a dark band at +y.

    Args:
        centroids: ``(F, 3)`` face centroids, model frame.
        extent: ``(3,)`` half extents of the object.
        class_id: DexYCB class id.

    Returns:
        ``(F, 3)`` uint8 RGB.
    """
    base = _class_color(class_id)
    colors = np.repeat(base[None], len(centroids), axis=0)
    label = (centroids[:, 0] > 0.2 * extent[0]) & (centroids[:, 2] > 0.1 * extent[2])
    colors[label] = 0.35 * base + 0.65 * 255.0
    band = centroids[:, 1] > 0.45 * extent[1]
    colors[band & ~label] *= 0.45
    return np.clip(np.round(colors), 0, 255).astype(np.uint8)


def build_object(name: str) -> ObjectModel:
    """Build the synthetic model of a YCB object (deterministic).

    Args:
        name: YCB model folder name, one of :data:`YCB_CLASSES`' values.

    Returns:
        The :class:`ObjectModel`.
    """
    if name not in _SHAPES:
        raise KeyError(f'unknown YCB object {name!r}; expected one of {sorted(_SHAPES)}')
    kind, size = _SHAPES[name]
    class_id = YCB_CLASS_IDS[name]
    builders = {'box': _box_mesh, 'cylinder': _cylinder_mesh, 'ellipsoid': _ellipsoid_mesh}
    vertices, faces = builders[kind](size)
    half = np.abs(vertices).max(axis=0)
    colors = _pattern_colors(vertices[faces].mean(axis=1), half, class_id)
    points = sample_surface(vertices, faces, NUM_MODEL_POINTS, np.random.default_rng(class_id))
    return ObjectModel(name=name, class_id=class_id, kind=kind, size=size,
                       vertices=vertices, faces=faces.astype(np.int64), face_colors=colors,
                       points=points)


def write_object_model(obj: ObjectModel, folder: str) -> None:
    """Write ``points.xyz``, ``textured_simple.obj`` (+ ``.mtl`` and ``texture_map.png``).

    The OBJ has one group, per-vertex normals (``f v/vt/vn`` with ``v == vn``) and texture
    coordinates pointing into a palette image that holds the face colours.

    Args:
        obj: The object model.
        folder: Output folder ``<models>/<obj.name>``, created if missing.
    """
    os.makedirs(folder, exist_ok=True)
    np.savetxt(os.path.join(folder, 'points.xyz'), obj.points, fmt='%.6f', delimiter=' ')
    palette, color_idx = np.unique(obj.face_colors, axis=0, return_inverse=True)
    color_idx = color_idx.reshape(-1)
    cv2.imwrite(os.path.join(folder, 'texture_map.png'),
                np.ascontiguousarray(palette[None, :, ::-1]))
    normals = vertex_normals(obj.vertices, obj.faces)
    lines: List[str] = ['mtllib textured_simple.obj.mtl', 'o object', 'g object',
                        'usemtl material_0']
    lines += [f'v {x:.6f} {y:.6f} {z:.6f}' for x, y, z in obj.vertices]
    lines += [f'vt {(k + 0.5) / len(palette):.6f} 0.500000' for k in range(len(palette))]
    lines += [f'vn {x:.6f} {y:.6f} {z:.6f}' for x, y, z in normals]
    for (a, b, c), k in zip(obj.faces + 1, color_idx + 1):
        lines.append(f'f {a}/{k}/{a} {b}/{k}/{b} {c}/{k}/{c}')
    with open(os.path.join(folder, 'textured_simple.obj'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    with open(os.path.join(folder, 'textured_simple.obj.mtl'), 'w') as f:
        f.write('newmtl material_0\nKa 0.2 0.2 0.2\nKd 0.8 0.8 0.8\nKs 0 0 0\n'
                'map_Kd texture_map.png\n')

