"""Exact mesh queries: inside/outside by winding numbers, point-mesh distance, hole caps.

Inside/outside is decided by the winding number ``w(p)`` of the mesh around a point: inside
when ``w >= 0.5`` (:data:`WINDING_INSIDE`). Two ways to compute it are provided:

* :func:`winding_numbers`: the generalized winding number (Jacobson et al. 2013), the sum over
  triangles of their signed solid angle seen from ``p`` divided by ``4 pi``, each solid angle by
  the van Oosterom-Strackee formula. It needs no watertight mesh: across a hole it varies
  smoothly between 0 and 1 instead of flipping, so YCB models with holes or cracks are still
  classified sensibly. Cost ``O(points x faces)``.
* :func:`lattice_winding`: the winding number of a CLOSED mesh on the nodes of a regular
  lattice, by counting signed crossings of axis-aligned rays (+1 leaving through a face whose
  normal points along the ray, -1 entering). For a closed mesh this is the same integer as the
  generalized winding number, also for self-intersecting meshes (a region covered twice has
  ``w = 2``), and it costs ``O(lattice nodes + triangle-column pairs)``.

:func:`inside_lattice` combines them for meshes that may be open: rays along the three axes in
both directions give six counts per node; where they agree the mesh is closed as seen from
that node and the count is used, elsewhere (rays escaping through a hole) the generalized
winding number is computed exactly.

Coordinates are in metres unless stated otherwise; lattices have their nodes at integer
multiples of ``spacing`` (node ``(i, j, k)`` at ``(i, j, k) * spacing``).
"""
from typing import Dict, List, Tuple

import numpy as np
from scipy.spatial import cKDTree

#: Winding-number threshold: a point is inside a mesh when ``w >= WINDING_INSIDE``.
WINDING_INSIDE = 0.5
#: Points per chunk in the ``O(points x faces)`` loops (bounds memory to ~100 MB).
_CHUNK_PAIRS = 4_000_000


def check_mesh(verts: np.ndarray, faces: np.ndarray, name: str = 'mesh') -> Tuple[np.ndarray,
                                                                                  np.ndarray]:
    """Check a triangle mesh and return it as ``(float64 verts, int64 faces)``.

    Args:
        verts: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` vertex ids.
        name: What the mesh is (a file name, ``'object mesh'``), used in error messages.

    Raises:
        ValueError: No faces, wrong shapes, non-finite vertices or out-of-range face ids.
    """
    verts = np.asarray(verts, dtype=np.float64)
    faces = np.asarray(faces)
    if verts.ndim != 2 or verts.shape[1] != 3 or len(verts) == 0:
        raise ValueError(f'{name}: expected (V, 3) vertices, got shape {verts.shape}')
    if faces.ndim != 2 or faces.shape[1] != 3 or len(faces) == 0:
        raise ValueError(f'{name}: expected (F, 3) triangles with F > 0, got shape '
                         f'{faces.shape}')
    if not np.isfinite(verts).all():
        raise ValueError(f'{name}: {int((~np.isfinite(verts).all(1)).sum())} vertices are '
                         'NaN or inf')
    faces = faces.astype(np.int64)
    if faces.min() < 0 or faces.max() >= len(verts):
        raise ValueError(f'{name}: face vertex ids must lie in [0, {len(verts) - 1}], got '
                         f'[{faces.min()}, {faces.max()}]')
    return verts, faces


def winding_numbers(points: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Generalized winding numbers of a triangle mesh (exact, brute force).

    ``w(p) = sum_f Omega_f(p) / (4 pi)`` with the signed solid angle of triangle ``(a, b, c)``
    (vectors from ``p``) by van Oosterom and Strackee (1983):
    ``tan(Omega / 2) = a . (b x c) / (|a||b||c| + (a.b)|c| + (b.c)|a| + (c.a)|b|)``.
    For an outward-oriented closed mesh ``w`` is 1 inside and 0 outside; for an open mesh it
    is fractional near holes. Inside when ``w >= WINDING_INSIDE``.

    Args:
        points: ``(P, 3)`` query points.
        verts: ``(V, 3)`` mesh vertices (same units as ``points``).
        faces: ``(F, 3)`` triangles.

    Returns:
        ``(P,)`` float64 winding numbers.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    tri = np.asarray(verts, dtype=np.float64)[np.asarray(faces)]
    out = np.empty(len(points))
    step = max(1, _CHUNK_PAIRS // max(len(tri), 1))
    for start in range(0, len(points), step):
        p = points[start:start + step, None, None, :]
        vec = tri[None] - p                                  # (P, F, 3, 3)
        a, b, c = vec[:, :, 0], vec[:, :, 1], vec[:, :, 2]
        la, lb, lc = (np.linalg.norm(v, axis=-1) for v in (a, b, c))
        det = np.einsum('pfi,pfi->pf', a, np.cross(b, c))
        den = (la * lb * lc + np.einsum('pfi,pfi->pf', a, b) * lc
               + np.einsum('pfi,pfi->pf', b, c) * la + np.einsum('pfi,pfi->pf', c, a) * lb)
        out[start:start + step] = np.arctan2(det, den).sum(axis=1) / (2.0 * np.pi)
    return out


def _closest_point_sq_dist(p: np.ndarray, a: np.ndarray, b: np.ndarray,
                           c: np.ndarray) -> np.ndarray:
    """Squared distance from points to triangles, pairwise (Ericson, Real-Time Collision
    Detection, 5.1.5). All inputs ``(M, 3)``; returns ``(M,)``."""
    ab, ac, ap = b - a, c - a, p - a
    d1, d2 = np.einsum('ij,ij->i', ab, ap), np.einsum('ij,ij->i', ac, ap)
    bp = p - b
    d3, d4 = np.einsum('ij,ij->i', ab, bp), np.einsum('ij,ij->i', ac, bp)
    cp = p - c
    d5, d6 = np.einsum('ij,ij->i', ab, cp), np.einsum('ij,ij->i', ac, cp)
    va, vb, vc = d3 * d6 - d5 * d4, d5 * d2 - d1 * d6, d1 * d4 - d3 * d2
    with np.errstate(divide='ignore', invalid='ignore'):
        denom = va + vb + vc
        v_face, w_face = vb / denom, vc / denom
        t_ab = d1 / (d1 - d3)
        t_ac = d2 / (d2 - d6)
        t_bc = (d4 - d3) / ((d4 - d3) + (d5 - d6))
    closest = np.nan_to_num(a + v_face[:, None] * ab + w_face[:, None] * ac)
    # Voronoi regions, applied from the lowest to the highest priority of Ericson's order.
    regions = (
        ((va <= 0) & ((d4 - d3) >= 0) & ((d5 - d6) >= 0),
         b + np.nan_to_num(t_bc)[:, None] * (c - b)),
        ((vb <= 0) & (d2 >= 0) & (d6 <= 0), a + np.nan_to_num(t_ac)[:, None] * ac),
        ((d6 >= 0) & (d5 <= d6), c),
        ((vc <= 0) & (d1 >= 0) & (d3 <= 0), a + np.nan_to_num(t_ab)[:, None] * ab),
        ((d3 >= 0) & (d4 <= d3), b),
        ((d1 <= 0) & (d2 <= 0), a),
    )
    for mask, point in regions:
        closest = np.where(mask[:, None], point, closest)
    diff = p - closest
    return np.einsum('ij,ij->i', diff, diff)


class SurfaceSampler:
    """Dense samples of a mesh surface that make exact point-mesh distances fast.

    Each triangle is split into ``n x n`` similar sub-triangles (``n`` = its longest edge over
    ``spacing``, rounded up) and the sub-triangles' vertices are kept, so every surface point
    lies within ``spacing`` of a sample of its own triangle. :meth:`distance` uses that bound:
    the nearest sample gives an upper bound ``U`` of the distance, and the triangle holding the
    closest surface point owns a sample within ``U + spacing``; the exact point-triangle
    distance is computed for the triangles of all those samples only.

    Args:
        verts: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` triangles.
        spacing: Sample spacing bound (same units as ``verts``).
    """

    def __init__(self, verts: np.ndarray, faces: np.ndarray, spacing: float) -> None:
        self.verts, self.faces = np.asarray(verts, np.float64), np.asarray(faces, np.int64)
        self.spacing = float(spacing)
        tri = self.verts[self.faces]
        edges = np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=-1).max(axis=1)
        splits = np.maximum(1, np.ceil(edges / self.spacing)).astype(np.int64)
        points, owners = [], []
        for n in np.unique(splits):
            ids = np.flatnonzero(splits == n)
            i, j = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing='ij')
            keep = (i + j) <= n
            bary = np.stack([n - i[keep] - j[keep], i[keep], j[keep]], axis=1) / n  # (S, 3)
            points.append(np.einsum('sk,fkd->fsd', bary, tri[ids]).reshape(-1, 3))
            owners.append(np.repeat(ids, len(bary)))
        self.points = np.concatenate(points)
        self.owners = np.concatenate(owners)
        self.tree = cKDTree(self.points)

    def distance(self, points: np.ndarray, neighbours: int = 16,
                 max_neighbours: int = 256) -> np.ndarray:
        """Exact unsigned distance from ``(P, 3)`` points to the surface, ``(P,)``.

        Points whose candidate set outgrows ``max_neighbours`` samples (e.g. on the medial
        axis of a cylinder, where the whole wall is about equally far) are measured against
        every triangle.
        """
        points = np.asarray(points, np.float64).reshape(-1, 3)
        step = max(1, _CHUNK_PAIRS // 16 // max_neighbours)
        return np.concatenate([np.empty(0)] + [
            self._distance(points[i:i + step], neighbours, max_neighbours)
            for i in range(0, len(points), step)])

    def _distance(self, points: np.ndarray, neighbours: int, max_neighbours: int) -> np.ndarray:
        result = np.empty(len(points))
        todo = np.arange(len(points))
        k = neighbours
        while len(todo) and k <= min(max_neighbours, len(self.points)):
            dist, idx = self.tree.query(points[todo], k=k)
            dist, idx = dist.reshape(len(todo), k), idx.reshape(len(todo), k)
            tri = self.verts[self.faces[self.owners[idx].ravel()]]
            sq = _closest_point_sq_dist(np.repeat(points[todo], k, axis=0), tri[:, 0],
                                        tri[:, 1], tri[:, 2])
            best = np.sqrt(sq.reshape(len(todo), k).min(axis=1))
            # Complete when every sample within best + spacing was among the k examined.
            done = (dist[:, -1] > best + self.spacing) | (k == len(self.points))
            result[todo[done]] = best[done]
            todo = todo[~done]
            k *= 4
        tri = self.verts[self.faces]
        step = max(1, _CHUNK_PAIRS // 4 // len(tri))
        for start in range(0, len(todo), step):
            ids = todo[start:start + step]
            sq = _closest_point_sq_dist(np.repeat(points[ids], len(tri), axis=0),
                                        *(np.tile(tri[:, i], (len(ids), 1)) for i in range(3)))
            result[ids] = np.sqrt(sq.reshape(len(ids), len(tri)).min(axis=1))
        return result


def point_mesh_distance(points: np.ndarray, verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Exact unsigned distance from points to a triangle mesh's surface.

    Args:
        points: ``(P, 3)`` query points.
        verts: ``(V, 3)`` vertices.
        faces: ``(F, 3)`` triangles.

    Returns:
        ``(P,)`` distances (units of the inputs).
    """
    verts = np.asarray(verts, np.float64)
    tri = verts[np.asarray(faces)]
    # A sample spacing of a quarter of the median edge keeps the candidate sets small.
    edge = np.median(np.linalg.norm(tri - np.roll(tri, 1, axis=1), axis=-1))
    return SurfaceSampler(verts, faces, max(edge / 4, 1e-9)).distance(points)


def boundary_half_edges(faces: np.ndarray) -> np.ndarray:
    """Half-edges ``(a, b)`` used by one face whose twin ``(b, a)`` no face uses, ``(B, 2)``."""
    faces = np.asarray(faces, np.int64)
    half = np.concatenate([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    num = int(faces.max()) + 1
    keys = half[:, 0] * num + half[:, 1]
    twins = half[:, 1] * num + half[:, 0]
    return half[~np.isin(keys, twins)]


def hole_caps(faces: np.ndarray) -> Dict[str, object]:
    """Fans that close every hole of a mesh, computed once from its faces.

    Boundary half-edges are grouped into loops (connected boundary vertices); each loop gets a
    new centre vertex (the mean of its vertices, see :func:`close_mesh`) and one triangle per
    boundary half-edge ``(a, b)``: ``(b, a, centre)``, which keeps the orientation of the
    neighbouring faces. MANO's only hole is the wrist opening.

    Args:
        faces: ``(F, 3)`` triangles over ``V`` vertices.

    Returns:
        Dict with ``loops`` (list of vertex-id arrays, one per hole) and ``faces``
        (``(F + B, 3)``: the input faces then the cap faces, centre ``l`` having id ``V + l``).
    """
    faces = np.asarray(faces, np.int64)
    num_verts = int(faces.max()) + 1
    edges = boundary_half_edges(faces)
    if len(edges) == 0:
        return dict(loops=[], faces=faces)
    parent = np.arange(num_verts)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    roots = np.array([find(a) for a in edges[:, 0]])
    loops: List[np.ndarray] = []
    caps = []
    for loop_id, root in enumerate(np.unique(roots)):
        loop_edges = edges[roots == root]
        loops.append(np.unique(loop_edges))
        centre = np.full((len(loop_edges), 1), num_verts + loop_id)
        caps.append(np.concatenate([loop_edges[:, [1]], loop_edges[:, [0]], centre], axis=1))
    return dict(loops=loops, faces=np.concatenate([faces] + caps))


def close_mesh(verts: np.ndarray, caps: Dict[str, object]) -> np.ndarray:
    """Append the hole-centre vertices of :func:`hole_caps` to ``(..., V, 3)`` vertices."""
    verts = np.asarray(verts, np.float64)
    centres = [verts[..., loop, :].mean(axis=-2) for loop in caps['loops']]
    if not centres:
        return verts
    return np.concatenate([verts, np.stack(centres, axis=-2)], axis=-2)


def orientation_sign(verts: np.ndarray, faces: np.ndarray) -> float:
    """+1 when the (closed) mesh's signed volume is positive (outward faces), else -1."""
    tri = np.asarray(verts, np.float64)[np.asarray(faces)]
    volume = np.einsum('fi,fi->', tri[:, 0], np.cross(tri[:, 1], tri[:, 2])) / 6.0
    return 1.0 if volume >= 0 else -1.0


def lattice_winding(verts: np.ndarray, faces: np.ndarray, spacing: float, lo: np.ndarray,
                    shape: Tuple[int, int, int], axis: int = 2,
                    both: bool = False):
    """Signed ray-crossing winding numbers of a mesh on a block of lattice nodes.

    Node ``(i, j, k)`` of the block sits at ``(lo + (i, j, k)) * spacing``. The ray from each
    node runs along ``+axis``; a face crossed with its normal along the ray counts +1, against
    it -1. For a closed mesh the count is the winding number (1 inside an outward-oriented
    mesh, 0 outside, 2 where it overlaps itself). Faces above the block count, faces below do
    not. A column's centre is tested against each projected triangle with the top-left rule,
    so a ray through a shared edge crosses exactly one of the two faces.

    Args:
        verts: ``(V, 3)`` vertices (same units as ``spacing``).
        faces: ``(F, 3)`` triangles.
        spacing: Lattice spacing.
        lo: ``(3,)`` integer lattice index of the block's first node.
        shape: Block size in nodes.
        axis: Ray direction (0, 1, 2).
        both: Also return each column's total signed crossings ``(shape without axis)``; a
            closed mesh has 0 everywhere, a non-zero total means the column passes a hole
            (then the count from the other end, ``w - total``, differs).

    Returns:
        ``(*shape)`` int32 winding numbers (and the totals when ``both``).
    """
    perm = [(axis + 1) % 3, (axis + 2) % 3, axis]  # cyclic: keeps the handedness
    lo = np.asarray(lo, np.int64)[perm]
    dims = tuple(int(shape[a]) for a in perm)
    # Absolute lattice coordinates, so that a node's result does not depend on the block.
    tri = np.asarray(verts, np.float64)[np.asarray(faces)][..., perm] / spacing
    ax, ay = tri[:, 0, 0], tri[:, 0, 1]
    bx, by = tri[:, 1, 0], tri[:, 1, 1]
    cx, cy = tri[:, 2, 0], tri[:, 2, 1]
    area = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
    x0 = np.maximum(np.ceil(tri[:, :, 0].min(1)), lo[0]).astype(np.int64)
    x1 = np.minimum(np.floor(tri[:, :, 0].max(1)), lo[0] + dims[0] - 1).astype(np.int64)
    y0 = np.maximum(np.ceil(tri[:, :, 1].min(1)), lo[1]).astype(np.int64)
    y1 = np.minimum(np.floor(tri[:, :, 1].max(1)), lo[1] + dims[1] - 1).astype(np.int64)
    nx, ny = np.maximum(x1 - x0 + 1, 0), np.maximum(y1 - y0 + 1, 0)
    counts = np.where(area != 0, nx * ny, 0)
    total = int(counts.sum())
    sums = np.zeros(dims[0] * dims[1] * (dims[2] + 1))
    if total:
        # Per triangle, made counter-clockwise in projection (b and c swapped when clockwise):
        # the three edge functions fn = ex * (y - sy) - ey * (x - sx) as coefficients of x,
        # y and 1, their top-left flags, and the plane z = z0 + zx * x + zy * y.
        sign = np.sign(area)
        swap = sign < 0
        a = tri[:, 0]
        b = np.where(swap[:, None], tri[:, 2], tri[:, 1])
        c = np.where(swap[:, None], tri[:, 1], tri[:, 2])
        coef, top_left = [], []
        for s, e in ((b, c), (c, a), (a, b)):                   # edges opposite a, b, c
            ex, ey = e[:, 0] - s[:, 0], e[:, 1] - s[:, 1]
            coef.append((-ey, ex, ey * s[:, 0] - ex * s[:, 1]))
            top_left.append((ey < 0) | ((ey == 0) & (ex > 0)))
        norm = np.abs(area)
        safe = np.where(norm == 0, 1.0, norm)
        zx = sum(cf[0] * v[:, 2] for cf, v in zip(coef, (a, b, c))) / safe
        zy = sum(cf[1] * v[:, 2] for cf, v in zip(coef, (a, b, c))) / safe
        z0 = sum(cf[2] * v[:, 2] for cf, v in zip(coef, (a, b, c))) / safe

        tid = np.repeat(np.arange(len(tri)), counts)
        local = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        px = x0[tid] + local // ny[tid]
        py = y0[tid] + local % ny[tid]
        inside = np.ones(total, dtype=bool)
        for (cx_, cy_, c0), flag in zip(coef, top_left):
            fn = cx_[tid] * px + cy_[tid] * py + c0[tid]
            inside &= (fn > 0) | ((fn == 0) & flag[tid])
        tid, px, py = tid[inside], px[inside], py[inside]
        z = z0[tid] + zx[tid] * px + zy[tid] * py
        # Nodes k < z see the crossing above them: k <= ceil(z) - 1.
        kmax = np.minimum(np.ceil(z).astype(np.int64) - 1 - lo[2], dims[2] - 1)
        slot = np.where(kmax < 0, dims[2], kmax)                 # below the block: own slot
        flat = ((px - lo[0]) * dims[1] + py - lo[1]) * (dims[2] + 1) + slot
        sums = np.bincount(flat, weights=sign[tid], minlength=len(sums))
    # Sums of +-1 are exact integers in float64.
    sums = sums.astype(np.int32).reshape(dims[0], dims[1], dims[2] + 1)
    winding = np.cumsum(sums[:, :, dims[2] - 1::-1], axis=2)[:, :, ::-1]
    winding = winding.transpose(np.argsort(perm))
    if both:
        column_total = sums.sum(axis=2)
        if perm[0] > perm[1]:                                    # back to increasing axes
            column_total = column_total.T
        return winding, column_total
    return winding


def inside_lattice(verts: np.ndarray, faces: np.ndarray, spacing: float, lo: np.ndarray,
                   shape: Tuple[int, int, int]) -> Tuple[np.ndarray, int]:
    """Inside/outside of a possibly open mesh on a block of lattice nodes.

    Six signed ray counts per node (both directions along x, y and z, :func:`lattice_winding`)
    decide where they agree; nodes where they disagree (a ray leaves through a hole) get the
    generalized winding number of :func:`winding_numbers`. Inside when ``w >= 0.5``. The mesh
    is oriented by the sign of its signed volume first, so inward-facing meshes work too.

    Args:
        verts, faces: The mesh.
        spacing: Lattice spacing; the block's node ``(i, j, k)`` sits at
            ``(lo + (i, j, k)) * spacing``.
        lo: ``(3,)`` integer index of the first node.
        shape: Block size in nodes. It must hold the whole mesh for the counts from both ends
            to be complete.

    Returns:
        ``(*shape)`` bool occupancy and the number of nodes that needed winding numbers.
    """
    faces = np.asarray(faces, np.int64)
    if orientation_sign(verts, faces) < 0:
        faces = faces[:, ::-1]
    counts = []
    for axis in range(3):
        up, total = lattice_winding(verts, faces, spacing, lo, shape, axis=axis, both=True)
        counts += [up, up - np.expand_dims(total, axis)]
    counts = np.stack(counts)
    agree = (counts == counts[0]).all(axis=0)
    inside = counts[0] >= 1
    unsure = np.argwhere(~agree)
    if len(unsure):
        points = (unsure + np.asarray(lo)) * spacing
        inside[tuple(unsure.T)] = winding_numbers(points, verts, faces) >= WINDING_INSIDE
    return inside, len(unsure)
