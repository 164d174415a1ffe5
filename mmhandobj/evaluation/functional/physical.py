"""Physical plausibility of a hand-object pair: penetration, intersection volume, contact.

All lengths are metres, volumes cubic metres. Inside/outside of the object uses winding
numbers with the threshold 0.5 (see :mod:`.mesh_geometry`), so non-watertight object meshes
work. The hand mesh (MANO is open at the wrist) is closed first by a fan over each hole
(:func:`~.mesh_geometry.hole_caps`), and every mesh is oriented by the sign of its signed
volume, so mirrored (left) hands and inward-facing meshes need no special care.

The functions here are exact per frame (up to the voxel size of the volumes) and meant for
arrays of modest size; :class:`ObjectContactGrid` precomputes a signed-distance and occupancy
grid per object model, which makes thousands of frames cheap (what
:class:`~mmhandobj.evaluation.metrics.HandObjectContactMetric` uses).
"""
from typing import Dict, Tuple

import numpy as np
from scipy.ndimage import distance_transform_edt, map_coordinates
from scipy.spatial import cKDTree

from .mesh_geometry import (
    WINDING_INSIDE,
    SurfaceSampler,
    _closest_point_sq_dist,
    check_mesh,
    close_mesh,
    hole_caps,
    inside_lattice,
    lattice_winding,
    orientation_sign,
    point_mesh_distance,
    winding_numbers,
)

#: Default voxel edge of the solid intersection volume, metres (2 mm).
DEFAULT_VOXEL_SIZE = 0.002
#: Voxel edge of ObMan's ``intersect_vox`` as used in its evaluation, metres (5 mm).
OBMAN_PITCH = 0.005
#: Default contact threshold on the hand-object distance, metres (2 mm).
CONTACT_THRESHOLD = 0.002
#: Lattice nodes closer to the surface than this many spacings get exact distances.
_EXACT_BAND = 3.0
#: Nearest surface samples whose triangles give the exact distance in the band.
_CANDIDATES = 8
_BAND_CHUNK = 50_000
#: Margin of the object grid around the model's bounding box, metres.
GRID_PADDING = 0.01


def _frames(hand_verts, obj_verts) -> Tuple[np.ndarray, np.ndarray]:
    """Broadcast ``(K, 3)`` / ``(N, K, 3)`` hands and ``(V, 3)`` / ``(N, V, 3)`` objects."""
    hand = np.asarray(hand_verts, np.float64)
    obj = np.asarray(obj_verts, np.float64)
    hand = hand[None] if hand.ndim == 2 else hand
    if hand.ndim != 3 or hand.shape[-1] != 3:
        raise ValueError(f'hand_verts: expected (N, K, 3) or (K, 3), got {np.shape(hand_verts)}')
    if obj.ndim == 2:
        obj = np.broadcast_to(obj, (len(hand), *obj.shape))
    if obj.ndim != 3 or obj.shape[-1] != 3 or len(obj) != len(hand):
        raise ValueError(f'obj_verts: expected (V, 3) or ({len(hand)}, V, 3), got '
                         f'{np.shape(obj_verts)}')
    return hand, obj


def _signed_vertex_distances(points: np.ndarray, verts: np.ndarray,
                             faces: np.ndarray) -> np.ndarray:
    """Exact signed distance of points to a mesh: negative inside (winding number >= 0.5)."""
    verts, faces = check_mesh(verts, faces, 'object mesh')
    distance = point_mesh_distance(points, verts, faces)
    winding = winding_numbers(points, verts, faces) * orientation_sign(verts, faces)
    return np.where(winding >= WINDING_INSIDE, -distance, distance)


def hand_object_distance(hand_verts, obj_verts, obj_faces) -> np.ndarray:
    """Signed hand-object distance per frame, metres.

    Positive: the smallest distance from a hand vertex to the object surface (the hand is
    apart or touching). Negative when a hand vertex is inside the object: minus the
    penetration depth (:func:`penetration_depth`). Exact: point-triangle distances and
    generalized winding numbers (inside when ``w >= 0.5``).

    Args:
        hand_verts: ``(N, K, 3)`` or ``(K, 3)`` hand vertices, metres (e.g. MANO's 778).
        obj_verts: ``(V, 3)`` (one pose for all frames) or ``(N, V, 3)`` object vertices in
            the hand's frame, metres.
        obj_faces: ``(F, 3)`` object triangles; the mesh need not be watertight.

    Returns:
        ``(N,)`` float64 metres.
    """
    hand, obj = _frames(hand_verts, obj_verts)
    out = np.empty(len(hand))
    for n in range(len(hand)):
        signed = _signed_vertex_distances(hand[n], obj[n], obj_faces)
        out[n] = signed.min() if (signed < 0).any() else np.abs(signed).min()
    return out


def penetration_depth(hand_verts, obj_verts, obj_faces) -> np.ndarray:
    """Deepest hand vertex inside the object per frame, metres (0 when none is inside).

    The depth of a vertex is its distance to the object's surface; inside means a
    generalized winding number of at least 0.5. Arguments as :func:`hand_object_distance`.

    Returns:
        ``(N,)`` float64 metres, >= 0.
    """
    return np.maximum(-hand_object_distance(hand_verts, obj_verts, obj_faces), 0.0)


def _lattice_box(lo_m: np.ndarray, hi_m: np.ndarray, spacing: float) -> Tuple[np.ndarray,
                                                                              np.ndarray]:
    """Integer index range ``[lo, hi]`` of the lattice nodes inside a metric box."""
    return np.ceil(lo_m / spacing).astype(np.int64), np.floor(hi_m / spacing).astype(np.int64)


def _closed_hand(hand: np.ndarray, hand_faces) -> Tuple[np.ndarray, np.ndarray]:
    """The hand closed over its holes and outward-oriented: ``(V + L, 3)``, ``(F + B, 3)``."""
    caps = hole_caps(np.asarray(hand_faces, np.int64))
    verts = close_mesh(hand, caps)
    faces = caps['faces']
    return verts, (faces if orientation_sign(verts, faces) > 0 else faces[:, ::-1])


def intersection_volume(hand_verts, hand_faces, obj_verts, obj_faces,
                        voxel_size: float = DEFAULT_VOXEL_SIZE) -> np.ndarray:
    """Solid hand-object intersection volume per frame, cubic metres.

    Counts the nodes of a lattice of spacing ``voxel_size`` (nodes at integer multiples of it
    in the given frame) inside both closed volumes, times ``voxel_size ** 3``. The hand is
    closed over its holes (the wrist) by fans; inside the hand is its winding number (signed
    ray crossings, exact for the closed hand), inside the object the six-ray count with the
    generalized winding number wherever a ray leaves through a hole
    (:func:`~.mesh_geometry.inside_lattice`). The error is that of counting voxels: about
    ``voxel_size / 2`` times the overlap's surface area at worst, much less on average.

    Args:
        hand_verts: ``(N, K, 3)`` or ``(K, 3)`` hand vertices, metres.
        hand_faces: ``(F_h, 3)`` hand triangles (e.g. MANO's 1538; holes are capped).
        obj_verts: ``(V, 3)`` or ``(N, V, 3)`` object vertices, metres.
        obj_faces: ``(F, 3)`` object triangles.
        voxel_size: Lattice spacing, metres.

    Returns:
        ``(N,)`` float64 cubic metres.
    """
    hand, obj = _frames(hand_verts, obj_verts)
    out = np.zeros(len(hand))
    for n in range(len(hand)):
        verts, faces = check_mesh(obj[n], obj_faces, 'object mesh')
        h_verts, h_faces = _closed_hand(hand[n], hand_faces)
        lo_o, hi_o = _lattice_box(verts.min(0), verts.max(0), voxel_size)
        lo_h, hi_h = _lattice_box(h_verts.min(0), h_verts.max(0), voxel_size)
        lo, hi = np.maximum(lo_o, lo_h), np.minimum(hi_o, hi_h)
        if (hi < lo).any():
            continue
        inside_obj, _ = inside_lattice(verts, faces, voxel_size, lo_o, tuple(hi_o - lo_o + 1))
        block = tuple(slice(a, b + 1) for a, b in zip(lo - lo_o, hi - lo_o))
        inside_hand = lattice_winding(h_verts, h_faces, voxel_size, lo, tuple(hi - lo + 1))
        out[n] = np.count_nonzero(inside_obj[block] & (inside_hand >= 1)) * voxel_size ** 3
    return out


def surface_voxels(verts: np.ndarray, faces: np.ndarray, pitch: float) -> np.ndarray:
    """Lattice indices of the voxels that a mesh's surface passes through, ObMan-style.

    As trimesh's ``voxelized`` (``subdivide``) that ObMan's ``intersect_vox`` uses: the surface
    is sampled with spacing ``pitch / 2`` and each sample rounded to the nearest lattice node
    (``round(p / pitch)``); the distinct nodes are returned.

    Returns:
        ``(S, 3)`` int64 node indices (node ``i`` sits at ``i * pitch``).
    """
    sampler = SurfaceSampler(verts, faces, pitch / 2)
    return np.unique(np.rint(sampler.points / pitch).astype(np.int64), axis=0)


def _count_in_hand(nodes: np.ndarray, h_verts: np.ndarray, h_faces: np.ndarray,
                   pitch: float) -> int:
    """How many lattice nodes (indices at ``pitch``) lie inside the closed hand."""
    lo_h, hi_h = _lattice_box(h_verts.min(0), h_verts.max(0), pitch)
    nodes = nodes[((nodes >= lo_h) & (nodes <= hi_h)).all(axis=1)]
    if len(nodes) == 0:
        return 0
    lo, hi = nodes.min(0), nodes.max(0)
    winding = lattice_winding(h_verts, h_faces, pitch, lo, tuple(hi - lo + 1))
    return int(np.count_nonzero(winding[tuple((nodes - lo).T)] >= 1))


def intersection_volume_obman(hand_verts, hand_faces, obj_verts, obj_faces,
                              pitch: float = OBMAN_PITCH) -> np.ndarray:
    """ObMan's voxel intersection volume per frame, cubic metres.

    ObMan's ``intersect_vox``: the OBJECT's surface is voxelised at ``pitch`` (surface voxels
    only, no fill, :func:`surface_voxels`), the voxel centres inside the closed HAND mesh are
    counted and the count is multiplied by ``pitch ** 3``. It counts a shell, not the solid
    overlap: papers quote it, :func:`intersection_volume` is the solid volume.

    Args:
        hand_verts, hand_faces, obj_verts, obj_faces: As :func:`intersection_volume`.
        pitch: Voxel edge, metres (ObMan's evaluation: 5 mm).

    Returns:
        ``(N,)`` float64 cubic metres.
    """
    hand, obj = _frames(hand_verts, obj_verts)
    out = np.zeros(len(hand))
    for n in range(len(hand)):
        verts, faces = check_mesh(obj[n], obj_faces, 'object mesh')
        h_verts, h_faces = _closed_hand(hand[n], hand_faces)
        nodes = surface_voxels(verts, faces, pitch)
        out[n] = _count_in_hand(nodes, h_verts, h_faces, pitch) * pitch ** 3
    return out


def _grid_distance(verts: np.ndarray, faces: np.ndarray, nodes: np.ndarray, spacing: float,
                   shape: Tuple[int, int, int]) -> np.ndarray:
    """Unsigned distance of lattice nodes to a mesh, exact to second order near it.

    The surface is sampled uniformly (about one sample per ``(spacing / 2)^2`` of area, plus
    every triangle's centroid); each node takes the distance to its nearest sample, and nodes
    within :data:`_EXACT_BAND` spacings take the exact point-triangle distance to the
    triangles of their :data:`_CANDIDATES` nearest samples (the closest triangle is among them
    unless two triangles are almost equally close, where the difference is negligible).
    """
    tri = verts[faces]
    area = np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1) / 2
    rng = np.random.default_rng(0)
    per_face = rng.poisson(area / (spacing / 2) ** 2)
    owners = np.concatenate([np.arange(len(faces)), np.repeat(np.arange(len(faces)), per_face)])
    bary = np.concatenate([np.full((len(faces), 2), 1 / 3), rng.random((per_face.sum(), 2))])
    flip = bary.sum(axis=1) > 1
    bary[flip] = 1 - bary[flip]
    t = tri[owners]
    samples = t[:, 0] + bary[:, :1] * (t[:, 1] - t[:, 0]) + bary[:, 1:] * (t[:, 2] - t[:, 0])
    tree = cKDTree(samples)
    distance = tree.query(nodes, distance_upper_bound=_EXACT_BAND * spacing)[0]
    band = np.flatnonzero(np.isfinite(distance))
    for start in range(0, len(band), _BAND_CHUNK):
        ids = band[start:start + _BAND_CHUNK]
        _, idx = tree.query(nodes[ids], k=_CANDIDATES)
        cand = tri[owners[idx.ravel()]]
        sq = _closest_point_sq_dist(np.repeat(nodes[ids], _CANDIDATES, axis=0), cand[:, 0],
                                    cand[:, 1], cand[:, 2])
        distance[ids] = np.sqrt(sq.reshape(len(ids), _CANDIDATES).min(axis=1))
    # Beyond the band: through the nearest band node (Euclidean distance transform), an upper
    # bound that is exact where that node's closest surface point lies straight ahead.
    distance = distance.reshape(shape)
    far = ~np.isfinite(distance)
    if far.any() and not far.all():
        _, nearest = distance_transform_edt(far, return_indices=True)
        via = tuple(n[far] for n in nearest)
        step = np.linalg.norm(np.argwhere(far) - np.stack(via, 1), axis=1) * spacing
        distance[far] = distance[via] + step
    return distance.ravel()


class ObjectContactGrid:
    """Precomputed signed-distance and occupancy lattice of one object model (model frame).

    Built once per object class: lattice nodes at integer multiples of ``spacing`` over the
    model's bounding box grown by ``padding``; occupancy by
    :func:`~.mesh_geometry.inside_lattice` (winding numbers, threshold 0.5); the unsigned
    surface distance at every node (exact within ``_EXACT_BAND`` spacings of the surface,
    beyond that the distance through the nearest band node, an upper bound), negated inside.
    Per frame the hand vertices are brought into the model frame and:

    * the signed distance of each vertex is interpolated trilinearly (beyond the lattice: the
      value at the nearest lattice point plus the distance to it, an upper bound);
    * the solid overlap counts the occupied nodes that lie inside the closed hand (signed ray
      crossings on the same lattice), times ``spacing ** 3``;
    * ObMan's figure counts the object's surface voxels (at ``obman_pitch``, precomputed) that
      lie inside the closed hand, times ``obman_pitch ** 3``.

    ``tools/analysis_tools/benchmark_physical.py`` measures the errors against the exact
    functions: at 2 mm spacing the signed distance is off by about 0.1 mm on average (up to
    about 1 mm for vertices deeper than the exact band), the solid volume by the voxel
    counting noise only.

    Args:
        verts: ``(V, 3)`` model vertices, metres, model frame.
        faces: ``(F, 3)`` triangles.
        spacing: Lattice spacing = voxel edge of the solid volume, metres.
        padding: Lattice margin around the model, metres (beyond it distances are upper
            bounds; keep it above the contact threshold).
        obman_pitch: Voxel edge of the ObMan-compatible figure, metres.
        name: What the mesh is (its file), for error messages.
    """

    def __init__(self, verts: np.ndarray, faces: np.ndarray,
                 spacing: float = DEFAULT_VOXEL_SIZE, padding: float = GRID_PADDING,
                 obman_pitch: float = OBMAN_PITCH, name: str = 'object mesh') -> None:
        verts, faces = check_mesh(verts, faces, name)
        self.spacing, self.obman_pitch = float(spacing), float(obman_pitch)
        self.lo = np.floor((verts.min(0) - padding) / spacing).astype(np.int64)
        hi = np.ceil((verts.max(0) + padding) / spacing).astype(np.int64)
        self.shape = tuple(int(s) for s in hi - self.lo + 1)
        self.inside, self.winding_nodes = inside_lattice(verts, faces, spacing, self.lo,
                                                         self.shape)
        nodes = (np.indices(self.shape).reshape(3, -1).T + self.lo) * spacing
        distance = _grid_distance(verts, faces, nodes, spacing, self.shape)
        self.sdf = np.where(self.inside, -1.0, 1.0) * distance.reshape(self.shape)
        occupied = np.argwhere(self.inside)
        self.occupied_box = ((occupied.min(0), occupied.max(0)) if len(occupied) else None)
        self.obman_nodes = surface_voxels(verts, faces, obman_pitch)

    def signed_distance(self, points: np.ndarray) -> np.ndarray:
        """Interpolated signed distance of ``(P, 3)`` model-frame points, metres."""
        grid = points / self.spacing - self.lo
        clamped = np.clip(grid, 0, np.asarray(self.shape) - 1)
        value = map_coordinates(self.sdf, clamped.T, order=1, mode='nearest')
        return value + np.linalg.norm(grid - clamped, axis=1) * self.spacing

    def evaluate(self, hand_verts: np.ndarray, hand_faces: np.ndarray) -> Dict[str, np.ndarray]:
        """Score hands placed in the model frame.

        Args:
            hand_verts: ``(N, K, 3)`` hand vertices in the model frame, metres.
            hand_faces: ``(F_h, 3)`` hand triangles (holes are capped here).

        Returns:
            Dict of ``(N,)`` float64 arrays: ``distance`` (signed hand-object distance, m),
            ``penetration_depth`` (m), ``intersection_volume`` and
            ``intersection_volume_obman`` (m^3).
        """
        hand_verts = np.asarray(hand_verts, np.float64)
        num = len(hand_verts)
        signed = self.signed_distance(hand_verts.reshape(-1, 3)).reshape(num, -1)
        result = dict(distance=signed.min(axis=1),
                      penetration_depth=np.maximum(-signed.min(axis=1), 0.0),
                      intersection_volume=np.zeros(num),
                      intersection_volume_obman=np.zeros(num))
        caps = hole_caps(np.asarray(hand_faces, np.int64))
        closed = close_mesh(hand_verts, caps)
        for n in range(num):
            faces = caps['faces']
            if orientation_sign(closed[n], faces) < 0:
                faces = faces[:, ::-1]
            result['intersection_volume'][n] = self._solid_overlap(closed[n], faces)
            result['intersection_volume_obman'][n] = _count_in_hand(
                self.obman_nodes, closed[n], faces, self.obman_pitch) * self.obman_pitch ** 3
        return result

    def _solid_overlap(self, h_verts: np.ndarray, h_faces: np.ndarray) -> float:
        if self.occupied_box is None:
            return 0.0
        lo_h, hi_h = _lattice_box(h_verts.min(0), h_verts.max(0), self.spacing)
        lo = np.maximum(lo_h - self.lo, self.occupied_box[0])
        hi = np.minimum(hi_h - self.lo, self.occupied_box[1])
        if (hi < lo).any():
            return 0.0
        winding = lattice_winding(h_verts, h_faces, self.spacing, lo + self.lo,
                                  tuple(hi - lo + 1))
        block = tuple(slice(a, b + 1) for a, b in zip(lo, hi))
        return np.count_nonzero(self.inside[block] & (winding >= 1)) * self.spacing ** 3
