"""Compose a synthetic frame: background, shaded hand and objects, label map and depth."""
from dataclasses import dataclass
from typing import List, Tuple

import cv2
import numpy as np

from .rasterizer import lambert_colors, rasterize


@dataclass
class Mesh:
    """A mesh to draw.

    Attributes:
        vertices: ``(V, 3)`` vertices, OpenCV camera frame, metres.
        faces: ``(F, 3)`` triangles.
        albedo: ``(F, 3)`` RGB 0..255 per face.
        label: Value of this mesh's pixels in :attr:`Frame.labels` (1..255).
    """

    vertices: np.ndarray
    faces: np.ndarray
    albedo: np.ndarray
    label: int


@dataclass
class Frame:
    """A rendered frame.

    Attributes:
        rgb: ``(H, W, 3)`` uint8, RGB order.
        depth: ``(H, W)`` float64 metres; background pixels hold the far wall's depth.
        labels: ``(H, W)`` uint8: 0 background, else the :attr:`Mesh.label` seen.
    """

    rgb: np.ndarray
    depth: np.ndarray
    labels: np.ndarray


def random_background(rng: np.random.Generator, image_size: Tuple[int, int]) -> np.ndarray:
    """A textured random background: smooth colour blobs, a few rectangles and noise.

    Args:
        rng: Random generator.
        image_size: ``(H, W)``.

    Returns:
        ``(H, W, 3)`` uint8 RGB.
    """
    height, width = image_size
    cells = rng.integers(3, 9)
    low = rng.integers(20, 236, size=(cells, cells + 2, 3), dtype=np.uint8)
    img = cv2.resize(low, (width, height), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.integers(2, 7)):
        x0, y0 = rng.integers(0, width - 40), rng.integers(0, height - 40)
        x1, y1 = x0 + rng.integers(20, 200), y0 + rng.integers(20, 150)
        img[y0:y1, x0:x1] = rng.integers(20, 236, size=3)
    noise = rng.integers(0, 25, size=(height // 2, width // 2), dtype=np.uint8)
    noise = cv2.cvtColor(cv2.resize(noise, (width, height), interpolation=cv2.INTER_NEAREST),
                         cv2.COLOR_GRAY2RGB)
    return cv2.subtract(cv2.add(img, noise), np.full_like(img, 12))


def render(meshes: List[Mesh], K: np.ndarray, background: np.ndarray, wall_depth: float,
           light_dir: np.ndarray, ambient: float) -> Frame:
    """Render meshes over a background with per-face Lambert shading and a z-buffer.

    Args:
        meshes: The meshes (any number).
        K: ``(3, 3)`` intrinsics.
        background: ``(H, W, 3)`` uint8 RGB.
        wall_depth: Depth of the background (a fronto-parallel wall), metres.
        light_dir: ``(3,)`` unit vector toward the light, camera frame.
        ambient: Ambient fraction in [0, 1].

    Returns:
        The :class:`Frame`.
    """
    verts, faces, colors, labels = [], [], [], []
    offset = 0
    for mesh in meshes:
        verts.append(mesh.vertices)
        faces.append(np.asarray(mesh.faces) + offset)
        colors.append(lambert_colors(mesh.vertices, mesh.faces, mesh.albedo, light_dir, ambient))
        labels.append(np.full(len(mesh.faces), mesh.label, dtype=np.uint8))
        offset += len(mesh.vertices)
    raster = rasterize(np.concatenate(verts), np.concatenate(faces), K, background.shape[:2])
    hit = raster.face_index >= 0
    rgb = background.copy()
    rgb[hit] = np.round(np.concatenate(colors)[raster.face_index[hit]]).astype(np.uint8)
    label_map = np.zeros(background.shape[:2], dtype=np.uint8)
    label_map[hit] = np.concatenate(labels)[raster.face_index[hit]]
    depth = np.where(hit, raster.depth, wall_depth)
    return Frame(rgb, depth, label_map)


def sample_lighting(rng: np.random.Generator) -> Tuple[np.ndarray, float]:
    """A light roughly behind the camera and above, and an ambient fraction.

    Returns:
        Unit direction toward the light ``(3,)`` (OpenCV camera frame) and the ambient level.
    """
    light = np.array([rng.uniform(-0.6, 0.6), rng.uniform(-0.8, 0.1), -1.0])
    return light / np.linalg.norm(light), float(rng.uniform(0.3, 0.5))


def skin_albedo(rng: np.random.Generator, num_faces: int) -> np.ndarray:
    """Per-face skin colour: one random skin tone with a slight per-face variation.

    Args:
        rng: Random generator.
        num_faces: Number of hand faces.

    Returns:
        ``(num_faces, 3)`` float RGB 0..255.
    """
    tone = np.array([224.0, 172.0, 138.0]) * rng.uniform(0.75, 1.1) \
        * rng.uniform(0.95, 1.05, size=3)
    return np.clip(tone * rng.normal(1.0, 0.04, size=(num_faces, 1)), 0, 255)
