"""The z-buffered rasteriser against explicit per-pixel geometry."""
import numpy as np
import torch
from reference_geometry import project, ray_depth

from mmhandobj.models.mano import ManoLayer
from mmhandobj.synthetic.rasterizer import rasterize
from mmhandobj.synthetic.renderer import Mesh, render

K = np.array([[600.0, 0.0, 31.5], [0.0, 600.0, 23.5], [0.0, 0.0, 1.0]])
SIZE = (48, 64)


def _inside(tri_uv, u, v):
    """Point-in-triangle by the signs of three edge cross products (explicit loop helper)."""
    signs = []
    for k in range(3):
        a, b = tri_uv[k], tri_uv[(k + 1) % 3]
        signs.append((b[0] - a[0]) * (v - a[1]) - (b[1] - a[1]) * (u - a[0]))
    return all(s >= 0 for s in signs) or all(s <= 0 for s in signs)


def test_nearer_triangle_hides_farther_one_in_any_order():
    far = np.array([[-0.05, -0.04, 1.0], [0.05, -0.04, 1.0], [0.0, 0.04, 1.0]])
    near = np.array([[-0.01, -0.01, 0.5], [0.01, -0.01, 0.5], [0.0, 0.01, 0.5]])
    verts = np.concatenate([far, near])
    for faces, near_id in (([[0, 1, 2], [3, 4, 5]], 1), ([[3, 4, 5], [0, 1, 2]], 0)):
        raster = rasterize(verts, np.array(faces), K, SIZE)
        near_uv = project(near, K)
        far_uv = project(far, K)
        for v in range(SIZE[0]):
            for u in range(SIZE[1]):
                if _inside(near_uv, u, v):
                    assert raster.face_index[v, u] == near_id
                    assert abs(raster.depth[v, u] - 0.5) < 1e-12
                elif _inside(far_uv, u, v):
                    assert raster.face_index[v, u] == 1 - near_id
                    assert abs(raster.depth[v, u] - 1.0) < 1e-12
                else:
                    assert raster.face_index[v, u] == -1 and raster.depth[v, u] == 0


def test_coverage_and_perspective_depth_of_a_tilted_triangle():
    tri = np.array([[-0.03, -0.02, 0.4], [0.04, -0.01, 0.7], [0.0, 0.035, 0.55]])
    raster = rasterize(tri, np.array([[0, 2, 1]]), K, SIZE)
    tri_uv = project(tri, K)
    covered = 0
    for v in range(SIZE[0]):
        for u in range(SIZE[1]):
            inside = _inside(tri_uv, u, v)
            edge = min(abs(np.cross(tri_uv[(k + 1) % 3] - tri_uv[k], [u, v] - tri_uv[k]))
                       / np.linalg.norm(tri_uv[(k + 1) % 3] - tri_uv[k]) for k in range(3))
            if edge > 1e-6:
                assert (raster.face_index[v, u] == 0) == inside
            if raster.face_index[v, u] == 0:
                covered += 1
                expected = ray_depth(tri, np.array([[0, 1, 2]]), K, u, v)
                assert abs(raster.depth[v, u] - expected) < 1e-9
    assert covered > 100


def test_left_hand_render_is_the_mirror_of_the_right_one():
    """Mirrored parameters (y, z of every axis-angle negated, x of translation negated) give
    the left-right flipped image when cx = (W - 1) / 2."""
    rng = np.random.default_rng(0)
    pose = np.concatenate([[0.3, 2.0, 0.4], rng.normal(0, 0.25, 45)])
    betas = rng.normal(0, 0.8, 10)
    trans = np.array([0.05, 0.02, 0.5])
    mirror_pose = (pose.reshape(16, 3) * [1, -1, -1]).ravel()
    mirror_trans = trans * [-1, 1, 1]
    K_full = np.array([[610.0, 0, 319.5], [0, 610.0, 240.0], [0, 0, 1]])
    images = []
    for side, p, t in (('right', pose, trans), ('left', mirror_pose, mirror_trans)):
        layer = ManoLayer(side=side, use_pca=False, flat_hand_mean=True, units='m',
                          standin_seed=0).double()
        verts, _ = layer(torch.tensor(p[None]), torch.tensor(betas[None]), torch.tensor(t[None]))
        verts = verts[0].numpy()
        faces = layer.th_faces.numpy()
        mesh = Mesh(verts, faces, np.full((len(faces), 3), 200.0), 1)
        images.append(render([mesh], K_full, np.zeros((480, 640, 3), np.uint8), 1.0,
                             np.array([0.0, 0.0, -1.0]), 0.3))
    right, left = images
    assert (right.labels > 0).sum() > 2000
    mismatch = (right.labels[:, ::-1] != left.labels).sum()
    assert mismatch <= 0.002 * (right.labels > 0).sum()
    both = (right.labels[:, ::-1] > 0) & (left.labels > 0)
    assert np.abs(right.depth[:, ::-1][both] - left.depth[both]).max() < 1e-6
