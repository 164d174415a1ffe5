"""Read and write triangle meshes as files other tools open (OBJ, PLY, and GLB via trimesh).

Vertices are metres in the OpenCV camera frame (x right, y down, z forward) when written by
the inferencer; the files store them as given.
"""
import os
import os.path as osp
from typing import Sequence, Tuple

import numpy as np

#: RGB colours (0-255) of the hand and the object in the written files.
HAND_RGB = (120, 170, 255)
OBJECT_RGB = (240, 50, 230)


def read_obj_mesh(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Vertices and triangles of a Wavefront OBJ file (polygons fanned into triangles).

    Args:
        path: ``.obj`` file (``v x y z`` and ``f i[/t[/n]] ...`` lines, 1-based or negative
            indices).

    Returns:
        ``(V, 3)`` float64 vertices and ``(F, 3)`` int64 0-based triangles.

    Raises:
        OSError: The file cannot be read.
        ValueError: No vertices or faces, or a face indexes a missing vertex.
    """
    verts, faces = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == 'v':
                verts.append([float(v) for v in parts[1:4]])
            elif parts[0] == 'f':
                ids = [int(p.split('/')[0]) for p in parts[1:]]
                ids = [i - 1 if i > 0 else len(verts) + i for i in ids]
                faces.extend([ids[0], ids[k], ids[k + 1]] for k in range(1, len(ids) - 1))
    verts, faces = np.asarray(verts, np.float64), np.asarray(faces, np.int64)
    if verts.ndim != 2 or verts.shape[1:] != (3, ) or faces.ndim != 2 or len(faces) == 0:
        raise ValueError(f'{path}: expected "v x y z" and "f a b c" lines, got {len(verts)} '
                         f'vertices and {len(faces)} faces')
    if faces.min() < 0 or faces.max() >= len(verts):
        raise ValueError(f'{path}: a face indexes a vertex outside 1..{len(verts)}')
    return verts, faces


def _merge(parts: Sequence[Tuple[np.ndarray, np.ndarray, Tuple[int, int, int]]]):
    verts, faces, colors, offset = [], [], [], 0
    for part_verts, part_faces, rgb in parts:
        verts.append(np.asarray(part_verts, np.float64))
        faces.append(np.asarray(part_faces, np.int64) + offset)
        colors.append(np.tile(np.asarray(rgb, np.uint8), (len(part_verts), 1)))
        offset += len(part_verts)
    return np.concatenate(verts), np.concatenate(faces), np.concatenate(colors)


def write_ply(path: str, parts: Sequence[Tuple[np.ndarray, np.ndarray, Tuple[int, int, int]]]
              ) -> None:
    """Write meshes into one ASCII PLY file with per-vertex colours.

    Args:
        path: Output ``.ply`` (parent folders are created).
        parts: ``(vertices (V, 3), triangles (F, 3) 0-based, RGB)`` per mesh.
    """
    verts, faces, colors = _merge(parts)
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w') as f:
        f.write(f'ply\nformat ascii 1.0\nelement vertex {len(verts)}\nproperty float x\n'
                'property float y\nproperty float z\nproperty uchar red\nproperty uchar green\n'
                f'property uchar blue\nelement face {len(faces)}\n'
                'property list uchar int vertex_indices\nend_header\n')
        f.writelines(f'{x:.6f} {y:.6f} {z:.6f} {r} {g} {b}\n'
                     for (x, y, z), (r, g, b) in zip(verts, colors))
        f.writelines(f'3 {a} {b} {c}\n' for a, b, c in faces)


def write_glb(path: str, parts: Sequence[Tuple[np.ndarray, np.ndarray, Tuple[int, int, int]]]
              ) -> None:
    """Write meshes into one binary glTF (``.glb``) scene, for web viewers.

    glTF's axes are y up, z towards the viewer (OpenGL), so the camera-frame vertices are
    stored as ``(x, -y, -z)``: the scene then appears as the camera saw it.

    Args:
        path: Output ``.glb`` (parent folders are created).
        parts: ``(vertices (V, 3), triangles (F, 3) 0-based, RGB)`` per mesh, OpenCV camera
            frame.

    Raises:
        ImportError: trimesh (optional dependency, ``pip install trimesh``) is missing.
    """
    import trimesh
    scene = trimesh.Scene()
    for i, (verts, faces, rgb) in enumerate(parts):
        mesh = trimesh.Trimesh(np.asarray(verts, np.float64) * [1.0, -1.0, -1.0],
                               np.asarray(faces, np.int64), process=False)
        mesh.visual.vertex_colors = np.tile([*rgb, 255], (len(verts), 1)).astype(np.uint8)
        scene.add_geometry(mesh, node_name=f'mesh_{i}', geom_name=f'mesh_{i}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    scene.export(path, file_type='glb')
