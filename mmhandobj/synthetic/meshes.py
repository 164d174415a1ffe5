"""Triangle-mesh helpers shared by the stand-in hand, the object models and the renderer."""
import numpy as np


def face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Unit face normals ``(F, 3)`` from the winding (right-hand rule).

    Args:
        vertices: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` triangles (vertex ids).
    """
    tri = vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals ``(V, 3)`` (a vertex of no face gets ``0``).

    Args:
        vertices: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` triangles (vertex ids), outward winding.
    """
    tri = vertices[faces]
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_n)
    norm = np.linalg.norm(normals, axis=1, keepdims=True)
    return normals / np.maximum(norm, 1e-12)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, num: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Sample points uniformly by area on a triangle mesh.

    Args:
        vertices: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` triangles.
        num: Number of points.
        rng: Random generator.

    Returns:
        ``(num, 3)`` points on the surface, in the vertices' frame and unit.
    """
    tri = vertices[faces]
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    face = rng.choice(len(faces), size=num, p=area / area.sum())
    r1, r2 = rng.random(num), rng.random(num)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    t = tri[face]
    return t[:, 0] + r1[:, None] * (t[:, 1] - t[:, 0]) + r2[:, None] * (t[:, 2] - t[:, 0])
