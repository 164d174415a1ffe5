"""Mesh helpers against closed forms (octahedron normals, area-proportional sampling)."""
import numpy as np

from mmhandobj.synthetic.meshes import face_normals, sample_surface, vertex_normals

# Regular octahedron, outward (counter-clockwise seen from outside) faces.
OCTA_VERTS = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])
OCTA_FACES = np.array([[0, 2, 4], [2, 1, 4], [1, 3, 4], [3, 0, 4],
                       [2, 0, 5], [1, 2, 5], [3, 1, 5], [0, 3, 5]])


def test_octahedron_normals_point_outward_along_the_vertices():
    np.testing.assert_allclose(vertex_normals(OCTA_VERTS, OCTA_FACES), OCTA_VERTS, atol=1e-12)
    centroids = OCTA_VERTS[OCTA_FACES].mean(axis=1)
    np.testing.assert_allclose(face_normals(OCTA_VERTS, OCTA_FACES),
                               centroids / np.linalg.norm(centroids, axis=1, keepdims=True),
                               atol=1e-12)


def test_surface_samples_lie_on_the_faces_in_proportion_to_their_area():
    # Two triangles of the z = 0 plane: one of area 0.5, one of area 1.5.
    verts = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [2, 0, 0], [5, 0, 0], [2, 1, 0]])
    faces = np.array([[0, 1, 2], [3, 4, 5]])
    points = sample_surface(verts, faces, 20000, np.random.default_rng(0))
    assert np.all(points[:, 2] == 0)
    in_first = (points[:, 0] >= 0) & (points[:, 1] >= 0) & (points[:, 0] + points[:, 1] <= 1)
    in_second = (points[:, 0] >= 2) & (points[:, 1] >= 0) & \
        (points[:, 1] <= 1 - (points[:, 0] - 2) / 3)
    assert np.all(in_first | in_second)
    assert abs(in_first.mean() - 0.25) < 0.015  # area 0.5 of 2.0
