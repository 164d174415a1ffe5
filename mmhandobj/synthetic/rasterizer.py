"""A small vectorised z-buffered triangle rasteriser (numpy only, no GPU, no display).

Pixel ``(x, y)`` is sampled at its centre, which sits at integer coordinates in the pinhole
convention ``u = fx * X / Z + cx`` (OpenCV camera: x right, y down, z forward, metres).
Depth is interpolated perspective-correctly (``1/z`` is linear in screen space), so a pixel's
depth is exactly the depth at which its ray meets the triangle's plane.
"""
from dataclasses import dataclass
from typing import Tuple

import numpy as np

from mmhandobj.structures import pinhole_project

from .meshes import face_normals

# Candidates handled per vectorised batch (bounds the memory of one step).
_MAX_CANDIDATES = 1 << 21


@dataclass
class Raster:
    """Result of :func:`rasterize`.

    Attributes:
        face_index: ``(H, W)`` int64, index of the visible face, -1 where empty.
        depth: ``(H, W)`` float64, z of the visible surface in metres, 0 where empty.
    """

    face_index: np.ndarray
    depth: np.ndarray


def rasterize(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray,
              image_size: Tuple[int, int], near: float = 0.05) -> Raster:
    """Rasterise triangles into a face-index buffer and a depth buffer.

    Triangles with a vertex closer than ``near`` are skipped (no clipping); both windings are
    drawn. Where several triangles cover a pixel the nearest one wins.

    Args:
        vertices: ``(V, 3)`` vertices, OpenCV camera, metres.
        faces: ``(F, 3)`` int vertex indices.
        K: ``(3, 3)`` intrinsics.
        image_size: ``(H, W)`` in pixels.
        near: Near limit in metres.

    Returns:
        The :class:`Raster`.
    """
    height, width = image_size
    face_index = np.full(height * width, -1, dtype=np.int64)
    depth = np.zeros(height * width, dtype=np.float64)
    vertices = np.asarray(vertices, dtype=np.float64)
    faces = np.asarray(faces, dtype=np.int64)
    if len(faces) == 0:
        return Raster(face_index.reshape(height, width), depth.reshape(height, width))
    uv = np.zeros((len(vertices), 2))
    front = vertices[:, 2] > near
    uv[front] = pinhole_project(vertices[front], K)
    tri_uv = uv[faces]
    tri_z = vertices[faces, 2]
    x0 = np.maximum(np.ceil(tri_uv[:, :, 0].min(1)), 0).astype(np.int64)
    x1 = np.minimum(np.floor(tri_uv[:, :, 0].max(1)), width - 1).astype(np.int64)
    y0 = np.maximum(np.ceil(tri_uv[:, :, 1].min(1)), 0).astype(np.int64)
    y1 = np.minimum(np.floor(tri_uv[:, :, 1].max(1)), height - 1).astype(np.int64)
    e1 = tri_uv[:, 1] - tri_uv[:, 0]
    e2 = tri_uv[:, 2] - tri_uv[:, 0]
    area = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    keep = front[faces].all(1) & (x0 <= x1) & (y0 <= y1) & (np.abs(area) > 1e-12)
    coef = _barycentric_coefficients(tri_uv, np.where(keep, area, 1.0))
    level_w = np.ceil(np.log2(np.maximum(x1 - x0 + 1, 1))).astype(np.int64)
    level_h = np.ceil(np.log2(np.maximum(y1 - y0 + 1, 1))).astype(np.int64)
    bucket = np.where(keep, level_w * 64 + level_h, -1)
    pix_parts, face_parts = [], []
    for level in np.unique(bucket[bucket >= 0]):
        box_w, box_h = 1 << int(level // 64), 1 << int(level % 64)
        ids = np.nonzero(bucket == level)[0]
        step = max(1, _MAX_CANDIDATES // (box_w * box_h))
        for start in range(0, len(ids), step):
            chunk = ids[start:start + step]
            xs, ys, fid = _cover(chunk, box_w, box_h, x0, x1, y0, y1, coef)
            pix_parts.append(ys * width + xs)
            face_parts.append(fid)
    if pix_parts:
        pix = np.concatenate(pix_parts)
        fid = np.concatenate(face_parts)
        xs, ys = pix % width, pix // width
        # Perspective-correct depth (float64): 1/z is affine in the pixel coordinates.
        wa, wb = (coef[fid, k, 0] * xs + coef[fid, k, 1] * ys + coef[fid, k, 2] for k in (0, 1))
        inv_z = 1.0 / tri_z[fid]
        z = 1.0 / (wa * inv_z[:, 0] + wb * inv_z[:, 1] + (1.0 - wa - wb) * inv_z[:, 2])
        order = np.lexsort((z, pix))
        pix, z, fid = pix[order], z[order], fid[order]
        first = np.ones(len(pix), dtype=bool)
        first[1:] = pix[1:] != pix[:-1]
        face_index[pix[first]] = fid[first]
        depth[pix[first]] = z[first]
    return Raster(face_index.reshape(height, width), depth.reshape(height, width))


def _barycentric_coefficients(tri_uv: np.ndarray, area: np.ndarray) -> np.ndarray:
    """Affine maps from a pixel to the barycentric weights of a triangle's first two vertices.

    The weight of a vertex is the signed area of the sub-triangle opposite to it over the
    triangle's area, so it is affine in ``(x, y)``: ``w = A x + B y + C``.

    Args:
        tri_uv: ``(F, 3, 2)`` projected vertices.
        area: ``(F,)`` signed doubled areas (non-zero).

    Returns:
        ``(F, 2, 3)``: ``(A, B, C)`` for vertex 0 and vertex 1.
    """
    coef = np.empty((len(tri_uv), 2, 3))
    for k in range(2):
        b, c = tri_uv[:, (k + 1) % 3], tri_uv[:, (k + 2) % 3]
        coef[:, k, 0] = (b[:, 1] - c[:, 1]) / area
        coef[:, k, 1] = (c[:, 0] - b[:, 0]) / area
        coef[:, k, 2] = (b[:, 0] * c[:, 1] - b[:, 1] * c[:, 0]) / area
    return coef


def _cover(ids: np.ndarray, box_w: int, box_h: int, x0: np.ndarray, x1: np.ndarray,
           y0: np.ndarray, y1: np.ndarray,
           coef: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pixels covered by triangles ``ids`` whose boxes fit in ``box_w`` x ``box_h`` pixels.

    The inside test runs in float32 on offsets from each box corner (small numbers).

    Returns:
        x and y of every covered pixel and the id of the covering face, one entry per pair.
    """
    dx = np.arange(box_w, dtype=np.float32)[None, None, :]
    dy = np.arange(box_h, dtype=np.float32)[None, :, None]
    c = coef[ids]
    origin = c[:, :, 0] * x0[ids, None] + c[:, :, 1] * y0[ids, None] + c[:, :, 2]
    c32 = c.astype(np.float32)
    o32 = origin.astype(np.float32)
    wa = c32[:, 0, 0, None, None] * dx + c32[:, 0, 1, None, None] * dy + o32[:, 0, None, None]
    wb = c32[:, 1, 0, None, None] * dx + c32[:, 1, 1, None, None] * dy + o32[:, 1, None, None]
    inside = (wa >= 0) & (wb >= 0) & (wa + wb <= 1) \
        & (dx <= (x1 - x0)[ids, None, None]) & (dy <= (y1 - y0)[ids, None, None])
    tri_i, row, col = np.nonzero(inside)
    return x0[ids][tri_i] + col, y0[ids][tri_i] + row, ids[tri_i]


def lambert_colors(vertices: np.ndarray, faces: np.ndarray, albedo: np.ndarray,
                   light_dir: np.ndarray, ambient: float = 0.35) -> np.ndarray:
    """Per-face two-sided Lambert shading.

    Each normal is turned to face the camera (at the origin), so open meshes and either winding
    shade the same way.

    Args:
        vertices: ``(V, 3)`` vertices, camera frame, metres.
        faces: ``(F, 3)`` triangles.
        albedo: ``(F, 3)`` RGB albedo in 0..255.
        light_dir: ``(3,)`` unit vector from the scene toward the light, camera frame.
        ambient: Ambient fraction in [0, 1].

    Returns:
        ``(F, 3)`` float RGB in 0..255.
    """
    normals = face_normals(vertices, faces)
    centroid = vertices[faces].mean(axis=1)
    away = np.einsum('fi,fi->f', normals, centroid) > 0
    normals[away] *= -1
    diffuse = np.clip(normals @ np.asarray(light_dir, dtype=np.float64), 0.0, 1.0)
    return np.clip(albedo * (ambient + (1.0 - ambient) * diffuse)[:, None], 0, 255)
