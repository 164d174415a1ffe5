"""Physical plausibility functions against closed forms and brute-force second implementations."""
import numpy as np
import pytest

from mmhandobj.evaluation.functional import (
    ObjectContactGrid,
    hand_object_distance,
    hole_caps,
    inside_lattice,
    intersection_volume,
    intersection_volume_obman,
    lattice_winding,
    penetration_depth,
    point_mesh_distance,
    surface_voxels,
    winding_numbers,
)
from mmhandobj.evaluation.functional.mesh_geometry import check_mesh, close_mesh
from mmhandobj.synthetic.hand_mesh import build_right_hand_mesh
from mmhandobj.synthetic.objects import build_object

CUBE_SIDE = 0.08  # metres: a hand-sized cube


def box_mesh(lo, hi):
    """Axis-aligned box, 12 outward triangles."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    verts = np.array([[hi[0] if i & 4 else lo[0], hi[1] if i & 2 else lo[1],
                       hi[2] if i & 1 else lo[2]] for i in range(8)])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = np.array([t for a, b, c, d in quads for t in ((a, b, c), (a, c, d))])
    return verts, faces


def cube():
    return box_mesh([-CUBE_SIDE / 2] * 3, [CUBE_SIDE / 2] * 3)


def stand_in_hand(offset=(0.0, 0.0, 0.0)):
    mesh = build_right_hand_mesh()
    verts = mesh['verts'] - mesh['verts'].mean(0) + offset
    return verts, mesh['faces']


def test_box_mesh_is_outward_and_closed():
    verts, faces = cube()
    tri = verts[faces]
    volume = np.einsum('fi,fi->', tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6
    assert volume == pytest.approx(CUBE_SIDE ** 3)
    assert len(hole_caps(faces)['loops']) == 0


@pytest.mark.parametrize('depth', [0.0, 0.003, 0.0125, 0.03])
def test_penetration_depth_of_a_box_pushed_into_the_cube(depth):
    verts, faces = cube()
    # A 2 cm "hand" box whose lowest face sits `depth` below the cube's top face (z = 4 cm).
    top = CUBE_SIDE / 2
    hand, _ = box_mesh([-0.01, -0.01, top - depth], [0.01, 0.01, top - depth + 0.02])
    hand = hand + [0.0013, -0.0021, 0.0]  # off the symmetric axes
    assert penetration_depth(hand, verts, faces)[0] == pytest.approx(depth, abs=1e-12)
    expected = -depth if depth > 0 else 0.0
    assert hand_object_distance(hand, verts, faces)[0] == pytest.approx(expected, abs=1e-12)


def test_distance_when_apart_and_batched():
    verts, faces = cube()
    gaps = np.array([0.001, 0.005, 0.02])
    # A sphere of vertices above a corner: the closest distance is |p - corner| - r.
    sphere = np.random.default_rng(0).normal(size=(500, 3))
    sphere = 0.01 * sphere / np.linalg.norm(sphere, axis=1, keepdims=True)
    corner = np.full(3, CUBE_SIDE / 2)
    direction = np.ones(3) / np.sqrt(3)
    hands = np.stack([sphere + corner + direction * (g + 0.01) for g in gaps])
    dist = hand_object_distance(hands, verts, faces)
    np.testing.assert_allclose(dist, gaps, atol=2e-4)  # sphere sampled by 500 points
    np.testing.assert_array_equal(penetration_depth(hands, verts, faces), 0.0)


def test_point_mesh_distance_matches_the_box_closed_form():
    verts, faces = cube()
    points = np.random.default_rng(1).uniform(-0.1, 0.1, (3000, 3))
    q = np.abs(points) - CUBE_SIDE / 2
    signed = np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(axis=1), 0)
    np.testing.assert_allclose(point_mesh_distance(points, verts, faces), np.abs(signed),
                               atol=1e-12)


@pytest.mark.parametrize('voxel', [0.001, 0.002])
def test_solid_volume_of_two_boxes_is_the_product_of_overlaps(voxel):
    verts, faces = cube()
    lo = np.array([0.0213, -0.0117, 0.0071])
    hand, hand_faces = box_mesh(lo, lo + [0.05, 0.03, 0.025])
    overlap = np.prod(np.minimum(lo + [0.05, 0.03, 0.025], CUBE_SIDE / 2) - lo)
    volume = intersection_volume(hand, hand_faces, verts, faces, voxel)[0]
    # Voxel counting: at most half a voxel layer over the overlap's surface.
    area = 2 * (0.0187 * 0.03 + 0.0187 * 0.025 + 0.03 * 0.025)
    assert abs(volume - overlap) <= area * voxel / 2
    apart, _ = box_mesh(lo + 0.1, lo + 0.12)
    assert intersection_volume(apart, hand_faces, verts, faces, voxel)[0] == 0.0


def test_open_cube_still_classifies_inside_points():
    verts, faces = cube()
    open_faces = faces[2:]                     # one side (x = -4 cm) removed
    rng = np.random.default_rng(2)
    inner = rng.uniform(-0.03, 0.03, (400, 3))
    outer = rng.uniform(0.045, 0.08, (400, 3)) * rng.choice([-1, 1], (400, 3))
    assert (winding_numbers(inner, verts, open_faces) >= 0.5).all()
    assert (winding_numbers(outer, verts, open_faces) < 0.5).all()
    # The lattice classifier (six ray counts + winding numbers at the leaky rays) agrees with
    # the closed cube away from the hole.
    spacing = 0.0021                           # no node on the cube's faces
    lo, shape = np.array([-22, -22, -22]), (45, 45, 45)
    open_inside, leaky = inside_lattice(verts, open_faces, spacing, lo, shape)
    closed_inside, none = inside_lattice(verts, faces, spacing, lo, shape)
    assert none == 0 and leaky > 0
    nodes = (np.indices(shape).reshape(3, -1).T + lo) * spacing
    assert closed_inside.sum() == 39 ** 3      # nodes -19..19 on each axis
    far_from_hole = nodes[:, 0] > -0.03
    assert (open_inside.ravel() == closed_inside.ravel())[far_from_hole].all()
    hand, _ = box_mesh([-0.01, -0.01, 0.03], [0.01, 0.01, 0.05])
    assert penetration_depth(hand, verts, open_faces)[0] == pytest.approx(0.01)


def test_wrist_cap_closes_the_hand():
    verts, faces = stand_in_hand()
    caps = hole_caps(faces)
    assert len(caps['loops']) == 1 and len(caps['loops'][0]) == 16
    closed = close_mesh(verts, caps)
    assert closed.shape == (779, 3)
    edges = np.concatenate([caps['faces'][:, [0, 1]], caps['faces'][:, [1, 2]],
                            caps['faces'][:, [2, 0]]])
    # Every directed edge has its twin once: closed and consistently oriented.
    pairs = set(map(tuple, edges))
    assert all((b, a) in pairs for a, b in edges)


def test_lattice_winding_equals_generalized_winding_on_the_closed_hand():
    verts, faces = stand_in_hand()
    caps = hole_caps(faces)
    closed = close_mesh(verts, caps)
    lo = np.floor(closed.min(0) / 0.003).astype(int)
    shape = tuple(np.ceil(closed.max(0) / 0.003).astype(int) - lo + 1)
    lattice = lattice_winding(closed, caps['faces'], 0.003, lo, shape)
    rng = np.random.default_rng(3)
    ids = np.stack([rng.integers(0, s, 1500) for s in shape], 1)
    exact = winding_numbers((ids + lo) * 0.003, closed, caps['faces'])
    np.testing.assert_allclose(lattice[tuple(ids.T)], exact, atol=1e-6)
    assert (lattice >= 1).any()


def test_solid_volume_agrees_with_monte_carlo_winding_numbers():
    obj = build_object('011_banana')
    verts, faces = stand_in_hand(offset=(0.0, 0.0, 0.02))
    volume = intersection_volume(verts, faces, obj.vertices, obj.faces, 0.001)[0]
    caps = hole_caps(faces)
    closed = close_mesh(verts, caps)
    lo = np.maximum(closed.min(0), obj.vertices.min(0))
    hi = np.minimum(closed.max(0), obj.vertices.max(0))
    points = np.random.default_rng(4).uniform(lo, hi, (6000, 3))
    both = ((winding_numbers(points, closed, caps['faces']) >= 0.5)
            & (winding_numbers(points, obj.vertices, obj.faces) >= 0.5))
    fraction = both.mean()
    estimate = fraction * np.prod(hi - lo)
    sigma = np.sqrt(fraction * (1 - fraction) / len(points)) * np.prod(hi - lo)
    assert volume > 0
    assert abs(volume - estimate) <= 4 * sigma + 0.05 * estimate


def test_obman_volume_counts_object_surface_voxels_inside_the_hand():
    verts, faces = cube()
    hand, hand_faces = box_mesh([0.0213, -0.0117, 0.0071], [0.0713, 0.0183, 0.0321])
    pitch = 0.005
    nodes = surface_voxels(verts, faces, pitch)
    inside = winding_numbers(nodes * pitch, hand, hand_faces) >= 0.5
    expected = inside.sum() * pitch ** 3
    assert expected > 0
    assert intersection_volume_obman(hand, hand_faces, verts, faces, pitch)[0] == expected
    # Surface voxels of the cube: only nodes within half a pitch of its faces.
    assert (point_mesh_distance(nodes * pitch, verts, faces) <= pitch * np.sqrt(3) / 2).all()


def test_grid_matches_the_exact_functions():
    obj = build_object('006_mustard_bottle')
    grid = ObjectContactGrid(obj.vertices, obj.faces, spacing=0.002)
    verts, faces = stand_in_hand()
    rng = np.random.default_rng(5)
    hands = verts[None] + rng.normal(0, 0.02, (6, 1, 3)) + [0.04, 0, 0]
    scores = grid.evaluate(hands, faces)
    exact = hand_object_distance(hands, obj.vertices, obj.faces)
    np.testing.assert_allclose(scores['distance'], exact, atol=5e-4)
    np.testing.assert_allclose(scores['penetration_depth'], np.maximum(-exact, 0), atol=5e-4)
    # Same lattice (model frame = the frame here): the solid volumes are identical.
    np.testing.assert_allclose(scores['intersection_volume'],
                               intersection_volume(hands, faces, obj.vertices, obj.faces, 0.002))
    np.testing.assert_allclose(scores['intersection_volume_obman'],
                               intersection_volume_obman(hands, faces, obj.vertices, obj.faces))


def test_degenerate_meshes_are_refused_with_their_name():
    verts, faces = cube()
    with pytest.raises(ValueError, match='mug.obj.*no faces|mug.obj.*F > 0'):
        check_mesh(verts, np.zeros((0, 3), int), 'mug.obj')
    bad = verts.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match='mug.obj: 1 vertices are NaN'):
        ObjectContactGrid(bad, faces, name='mug.obj')


def test_mirrored_meshes_keep_their_scores():
    """Mirroring (a left hand with the right hand's faces) turns the faces inside out."""
    obj = build_object('011_banana')
    verts, faces = stand_in_hand(offset=(0.0, 0.0, 0.02))
    mirror = np.array([-1.0, 1.0, 1.0])
    for function in (intersection_volume, intersection_volume_obman):
        direct = function(verts, faces, obj.vertices, obj.faces)[0]
        assert direct > 0
        assert function(verts * mirror, faces, obj.vertices * mirror, obj.faces)[0] == \
            pytest.approx(direct, rel=0.02)
    assert hand_object_distance(verts * mirror, obj.vertices * mirror, obj.faces)[0] == \
        pytest.approx(hand_object_distance(verts, obj.vertices, obj.faces)[0])
