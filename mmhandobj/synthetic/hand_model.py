"""Procedural stand-in for the MANO hand model (NOT MANO; for tests and synthetic data).

The MANO licence forbids redistributing ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``, so tests, CI
and the synthetic dataset use this generated model instead. It has exactly the official keys,
shapes and dtypes and the MANO kinematic tree, and it looks like a hand: a palm tube open at the
wrist (a 16-vertex boundary loop, as in MANO) with four fingers extruded from the knuckle face
and a thumb extruded from the radial side, each finger a tube of 8-vertex rings over three
phalanges. It is one connected, consistently oriented triangle mesh (778 vertices, 1538 faces).

Frame of the right hand in the rest pose (metres): fingers point to ``-x``, the back of the
hand faces ``+y`` (palm towards ``-y``), the thumb is on the ``+z`` side; the wrist joint is
near ``(0.088, 0, 0)`` and the knuckle face is the plane ``x = 0``. Positive rotations about
``+z`` at the finger joints curl the fingers towards the palm. The left model is the mirror image
(``x`` negated, faces flipped), like ``MANO_LEFT``.

Every fingertip vertex id of :data:`~mmhandobj.structures.joint_orders.FINGERTIP_VERTS` is put on
the tip of its finger: the first listed id (manopth, right) is the apex of the finger; the other
ids sit on the small ring around the apex (pad side), a few millimetres away.
"""
import copyreg
import pickle
from functools import lru_cache
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from mmhandobj.structures.joint_orders import FINGERTIP_VERTS

NUM_VERTS = 778
NUM_FACES = 1538
#: Parent of each MANO joint (joint 0, the wrist, has none); MANO joint order.
MANO_PARENTS: Tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)
#: Root parent value stored in ``kintree_table`` by the official files.
KINTREE_ROOT = 4294967295

# Palm tube: rows from the wrist (x = 0.088) to the knuckle face (x = 0).
_ROW_X = np.array([0.088, 0.066, 0.044, 0.022, 0.0])
_ROW_HALF_WIDTH = np.array([0.034, 0.040, 0.043, 0.045, 0.045])
_ROW_HALF_THICK = np.array([0.015, 0.017, 0.016, 0.014, 0.012])
_NUM_COLS = 13  # dorsal (and palmar) columns; the ring is Rad, d0..d12, Uln, p12..p0 = 28
# z of the dorsal/palmar columns 0, 3, 6, 9, 12 at the knuckle row (finger boundaries).
_KNUCKLE_Z = np.array([0.041, 0.0195, -0.0025, -0.0225, -0.039])


class _Finger:
    """Geometry of one finger (or the thumb) of the stand-in.

    Args:
        name: Finger name.
        joints: The three MANO joint ids of the finger, proximal to distal.
        lengths: Lengths of the three segments, metres.
        rings: Number of 8-vertex rings on each segment.
        direction: Rest direction of the finger.
        tip_radii: Half width and half height of the finger near the tip, metres.
    """

    def __init__(self, name: str, joints: Tuple[int, int, int],
                 lengths: Tuple[float, float, float], rings: Tuple[int, int, int],
                 direction: Tuple[float, float, float],
                 tip_radii: Tuple[float, float]) -> None:
        self.name = name
        self.joints = joints
        self.lengths = np.array(lengths)
        self.rings = rings
        self.direction = np.array(direction) / np.linalg.norm(direction)
        self.tip_radii = np.array(tip_radii)


_FINGERS: Dict[str, _Finger] = {
    'index': _Finger('index', (1, 2, 3), (0.040, 0.024, 0.021), (5, 4, 5),
                     (-1.0, 0.0, 0.07), (0.0080, 0.0068)),
    'middle': _Finger('middle', (4, 5, 6), (0.044, 0.028, 0.023), (5, 5, 5),
                      (-1.0, 0.0, 0.0), (0.0084, 0.0070)),
    'ring': _Finger('ring', (10, 11, 12), (0.041, 0.027, 0.022), (5, 4, 5),
                    (-1.0, 0.0, -0.07), (0.0078, 0.0066)),
    'pinky': _Finger('pinky', (7, 8, 9), (0.032, 0.020, 0.019), (4, 4, 4),
                     (-1.0, 0.0, -0.16), (0.0068, 0.0058)),
    'thumb': _Finger('thumb', (13, 14, 15), (0.038, 0.032, 0.027), (5, 5, 5),
                     (-0.55, -0.35, 0.75), (0.0095, 0.0080)),
}
#: Finger names in the order of the tip lists of ``FINGERTIP_VERTS``.
TIP_FINGERS: Tuple[str, ...] = ('thumb', 'index', 'middle', 'ring', 'pinky')
# Knuckle-face quads (0..11) extruded into each long finger.
_FINGER_QUADS = {'index': (0, 1, 2), 'middle': (3, 4, 5), 'ring': (6, 7, 8),
                 'pinky': (9, 10, 11)}
_THUMB_ROWS = (0, 1, 2)  # side quads between ring columns 27 (p0) and 0 (Rad)
_WRIST_QUADS = tuple(range(2, 9))  # wrist-face quads extruded into the open wrist stub


class _MeshBuilder:
    """Growing vertex/face lists with per-vertex labels used to derive the model arrays."""

    def __init__(self) -> None:
        self.verts: List[np.ndarray] = []
        self.part: List[str] = []  # 'palm', 'wrist' or a finger name
        self.arc: List[float] = []  # distance along the finger chain (0 off fingers)
        self.faces: List[Tuple[int, ...]] = []  # quads and triangles, outward winding

    def add(self, points: np.ndarray, part: str, arc: float = 0.0) -> List[int]:
        start = len(self.verts)
        for p in np.atleast_2d(points):
            self.verts.append(np.asarray(p, dtype=np.float64))
            self.part.append(part)
            self.arc.append(arc)
        return list(range(start, len(self.verts)))

    def remove_faces(self, faces: Sequence[Tuple[int, ...]]) -> List[int]:
        """Remove a patch of faces and return its boundary loop in the faces' winding."""
        for face in faces:
            self.faces.remove(tuple(face))
        edges = {}
        for face in faces:
            for a, b in zip(face, face[1:] + face[:1]):
                edges[(a, b)] = True
        boundary = {a: b for (a, b) in edges if (b, a) not in edges}
        loop = [next(iter(boundary))]
        while len(loop) < len(boundary):
            loop.append(boundary[loop[-1]])
        if boundary[loop[-1]] != loop[0]:
            raise RuntimeError('removed patch does not have a single boundary loop')
        return loop

    def bridge(self, loop_a: Sequence[int], loop_b: Sequence[int]) -> None:
        """Quads between two corresponding loops; ``loop_a`` keeps its winding."""
        n = len(loop_a)
        for j in range(n):
            k = (j + 1) % n
            self.faces.append((loop_a[j], loop_a[k], loop_b[k], loop_b[j]))

    def triangles(self) -> np.ndarray:
        tris = []
        for face in self.faces:
            tris.extend((face[0], face[i], face[i + 1]) for i in range(1, len(face) - 1))
        return np.array(tris, dtype=np.int64)


def _palm_rings(builder: _MeshBuilder) -> List[List[int]]:
    """Add the palm tube (5 rings of 28) with its knuckle and wrist faces."""
    col = np.arange(_NUM_COLS)
    knuckle_z = np.interp(col, [0, 3, 6, 9, 12], _KNUCKLE_Z)
    rings = []
    for x, half_w, half_t in zip(_ROW_X, _ROW_HALF_WIDTH, _ROW_HALF_THICK):
        z = knuckle_z * half_w / _ROW_HALF_WIDTH[-1]
        profile = np.clip((1.0 - np.abs(z / half_w) ** 4) ** 0.25, 0.35, 1.0)
        dorsal = np.stack([np.full_like(z, x), half_t * profile, z], axis=1)
        palmar = np.stack([np.full_like(z, x), -half_t * profile, z], axis=1)
        points = np.concatenate([[[x, 0.0, half_w]], dorsal, [[x, 0.0, -half_w]],
                                 palmar[::-1]])
        rings.append(builder.add(points, 'palm'))
    for lower, upper in zip(rings[:-1], rings[1:]):
        builder.bridge(lower, upper)

    def columns(ring: List[int]) -> Tuple[List[int], List[int], int, int]:
        return ring[1:14], ring[27:14:-1], ring[0], ring[14]

    d, p, rad, uln = columns(rings[-1])
    builder.faces += [(d[i], d[i + 1], p[i + 1], p[i]) for i in range(12)]
    builder.faces += [(rad, d[0], p[0]), (d[12], uln, p[12])]
    d, p, rad, uln = columns(rings[0])
    builder.faces += [(d[i], p[i], p[i + 1], d[i + 1]) for i in range(12)]
    builder.faces += [(rad, p[0], d[0]), (d[12], p[12], uln)]
    return rings


def _frame(direction: np.ndarray, reference: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Unit vectors ``e1`` (``reference`` made orthogonal to ``direction``) and ``e2``."""
    e1 = reference - reference.dot(direction) * direction
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(direction, e1)


def _extrude_finger(builder: _MeshBuilder, finger: _Finger,
                    base_loop: List[int]) -> Dict[str, Any]:
    """Grow one finger tube from ``base_loop`` and close it at the tip.

    Returns:
        Dict with the base loop, the joint rings (for the regressor) and the tip candidates.
    """
    base = np.array([builder.verts[i] for i in base_loop])
    centre = base.mean(0)
    direction = finger.direction
    reference = np.array([0.0, 0.0, 1.0]) if finger.name != 'thumb' else np.array([1., 0, 0])
    e1, e2 = _frame(direction, reference)
    offsets = base - centre
    ext1, ext2 = np.abs(offsets @ e1).max(), np.abs(offsets @ e2).max()
    angles = np.arctan2(offsets @ e2 / ext2, offsets @ e1 / ext1)
    steps = (np.diff(angles) + np.pi) % (2 * np.pi) - np.pi
    angles = angles[0] + np.concatenate([[0.0], np.cumsum(steps)])
    turn = np.sign(angles[-1] - angles[0])
    uniform = turn * 2 * np.pi * np.arange(8) / 8
    uniform += (angles - uniform).mean()

    total = finger.lengths.sum()
    tip_w, tip_h = finger.tip_radii
    back = 0.9 * tip_h
    ends = np.cumsum(finger.lengths)
    starts = np.concatenate([[0.0], ends[:2]])
    arcs = []
    for seg, (s0, s1, n) in enumerate(zip(starts, ends, finger.rings)):
        s1 = total - back if seg == 2 else s1
        arcs.extend(s0 + (s1 - s0) * np.arange(1, n + 1) / n)
    knots = [0.0, 0.25 * finger.lengths[0], total - back]
    loops, joint_rings = [base_loop], {}
    for arc in arcs:
        blend = min(arc / (0.3 * finger.lengths[0]), 1.0)
        phi = angles + (uniform - angles) * blend
        half_w = np.interp(arc, knots, [ext1, 1.25 * tip_w, tip_w])
        half_h = np.interp(arc, knots, [ext2, 1.25 * tip_h, tip_h])
        points = (centre + arc * direction + half_w * np.cos(phi)[:, None] * e1
                  + half_h * np.sin(phi)[:, None] * e2)
        loop = builder.add(points, finger.name, arc)
        builder.bridge(loops[-1], loop)
        loops.append(loop)
        for joint_arc in ends[:2]:
            if abs(arc - joint_arc) < 1e-9:
                joint_rings[float(joint_arc)] = loop
    cap_arc = total - 0.35 * tip_h
    cap_points = (centre + cap_arc * direction
                  + 0.65 * tip_w * np.cos(uniform)[:, None] * e1
                  + 0.65 * tip_h * np.sin(uniform)[:, None] * e2)
    cap = builder.add(cap_points, finger.name, cap_arc)
    builder.bridge(loops[-1], cap)
    # Cap ring vertices ordered from the pad (palmar side) outwards: tip id candidates.
    palmar_axis = np.array([0.0, -1.0, 0.0])
    pad_order = np.argsort(-(cap_points - cap_points.mean(0)) @ palmar_axis)
    tip_point = centre + total * direction
    if finger.name == 'thumb':
        # Close with a two-vertex ridge (keeps the vertex count of the model exact); the
        # first ridge vertex is the most distal point of the thumb.
        side_a = cap_points[[6, 7, 0, 1]].mean(0) - cap_points.mean(0)
        side_b = cap_points[[2, 3, 4, 5]].mean(0) - cap_points.mean(0)
        ridge_a, ridge_b = builder.add(
            np.stack([tip_point + 0.3 * side_a,
                      tip_point - 0.2 * tip_h * direction + 0.4 * side_b]), finger.name, total)
        for j in (6, 7, 0, 1):
            builder.faces.append((cap[j], cap[(j + 1) % 8], ridge_a))
        for j in (2, 3, 4, 5):
            builder.faces.append((cap[j], cap[j + 1], ridge_b))
        builder.faces += [(cap[2], ridge_b, ridge_a), (cap[6], ridge_a, ridge_b)]
        tips = [ridge_a, ridge_b]
    else:
        (apex,) = builder.add(tip_point, finger.name, total)
        builder.faces += [(cap[j], cap[(j + 1) % 8], apex) for j in range(8)]
        tips = [apex]
    tips += [cap[j] for j in pad_order]
    return dict(base=base_loop, rings=[joint_rings[float(e)] for e in ends[:2]], tips=tips,
                centre=centre, e2=e2)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _build_right_mesh() -> Dict[str, Any]:
    """Build the right-hand rest mesh (natural vertex order) and its labels."""
    builder = _MeshBuilder()
    rings = _palm_rings(builder)
    top_d, top_p = rings[-1][1:14], rings[-1][27:14:-1]
    bottom_d, bottom_p = rings[0][1:14], rings[0][27:14:-1]
    wrist_loop = builder.remove_faces(
        [(bottom_d[i], bottom_p[i], bottom_p[i + 1], bottom_d[i + 1]) for i in _WRIST_QUADS])
    wrist_points = np.array([builder.verts[i] for i in wrist_loop])
    previous = wrist_loop
    for shift, scale in ((0.012, 0.95), (0.024, 0.92)):
        centre = wrist_points.mean(0)
        points = centre + scale * (wrist_points - centre) + [shift, 0.0, 0.0]
        loop = builder.add(points, 'wrist')
        builder.bridge(previous, loop)
        previous = loop
    fingers = {}
    for name in ('index', 'middle', 'ring', 'pinky'):
        quads = [(top_d[i], top_d[i + 1], top_p[i + 1], top_p[i]) for i in _FINGER_QUADS[name]]
        fingers[name] = _extrude_finger(builder, _FINGERS[name], builder.remove_faces(quads))
    side = [(rings[j][27], rings[j][0], rings[j + 1][0], rings[j + 1][27]) for j in _THUMB_ROWS]
    fingers['thumb'] = _extrude_finger(builder, _FINGERS['thumb'], builder.remove_faces(side))
    return dict(verts=np.array(builder.verts), faces=builder.triangles(),
                part=np.array(builder.part), arc=np.array(builder.arc),
                wrist_loop=wrist_loop, fingers=fingers)


def _skinning(mesh: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """Skinning weights ``(778, 16)`` and dense joint regressor ``(16, 778)``."""
    weights = np.zeros((NUM_VERTS, 16))
    weights[:, 0] = 1.0
    regressor = np.zeros((16, NUM_VERTS))
    regressor[0, mesh['wrist_loop']] = 1.0 / len(mesh['wrist_loop'])
    base_share: Dict[int, List[int]] = {}
    for name, info in mesh['fingers'].items():
        finger = _FINGERS[name]
        j1, j2, j3 = finger.joints
        for v in info['base']:
            base_share.setdefault(v, []).append(j1)
        regressor[j1, info['base']] = 1.0 / 8
        regressor[j2, info['rings'][0]] = 1.0 / 8
        regressor[j3, info['rings'][1]] = 1.0 / 8
        on_finger = np.flatnonzero(mesh['part'] == name)
        arc = mesh['arc'][on_finger]
        bounds = np.concatenate([[0.0], np.cumsum(finger.lengths)[:2]])
        widths = (0.014, 0.010, 0.010)
        steps = [_smoothstep((arc - b) / w + 0.5) for b, w in zip(bounds, widths)]
        weights[on_finger] = 0.0
        weights[on_finger, 0] = 1.0 - steps[0]
        weights[on_finger, j1] = steps[0] - steps[1]
        weights[on_finger, j2] = steps[1] - steps[2]
        weights[on_finger, j3] = steps[2]
    for v, joints in base_share.items():
        weights[v] = 0.0
        weights[v, 0] = 0.5
        for j in joints:
            weights[v, j] += 0.5 / len(joints)
    return weights, regressor


def _vertex_normals(verts: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = verts[faces]
    face_normals = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(verts)
    for k in range(3):
        np.add.at(normals, faces[:, k], face_normals)
    return normals / np.linalg.norm(normals, axis=1, keepdims=True)


def _shapedirs(mesh: Dict[str, Any], joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ten smooth shape directions ``(778, 3, 10)`` in metres per unit beta."""
    verts, part, arc = mesh['verts'], mesh['part'], mesh['arc']
    dirs = np.zeros((NUM_VERTS, 3, 10))
    dirs[:, :, 0] = 0.03 * (verts - joints[0])
    for name, info in mesh['fingers'].items():
        on = part == name
        finger = _FINGERS[name]
        stretch = 0.10 if name == 'thumb' else 0.08
        dirs[on, :, 4 if name == 'thumb' else 1] = stretch * arc[on, None] * finger.direction
        dirs[on, 2, 2] = 0.06 * info['centre'][2]
        axis = info['centre'] + arc[on, None] * finger.direction
        dirs[on, :, 3] = 0.08 * ((verts[on] - axis) @ info['e2'])[:, None] * info['e2']
    palm = (part == 'palm') | (part == 'wrist')
    dirs[palm, 2, 2] = 0.06 * verts[palm, 2]
    dirs[palm, 1, 3] = 0.08 * verts[palm, 1]
    for k in range(5, 10):
        freq = rng.normal(0.0, 25.0, size=(3, 3))
        phase = rng.uniform(0.0, 2 * np.pi, size=3)
        dirs[:, :, k] = 0.0015 * np.sin(verts @ freq + phase)
    return dirs


def _posedirs(verts: np.ndarray, faces: np.ndarray, weights: np.ndarray,
              rng: np.random.Generator) -> np.ndarray:
    """Small corrective offsets ``(778, 3, 135)`` around each bending joint, metres."""
    normals = _vertex_normals(verts, faces)
    dirs = np.zeros((NUM_VERTS, 3, 135))
    for joint in range(1, 16):
        parent = MANO_PARENTS[joint]
        bump = 4.0 * weights[:, joint] * weights[:, parent]
        coeffs = rng.uniform(-1.0, 1.0, size=9)
        block = 0.003 * bump[:, None, None] * normals[:, :, None] * coeffs[None, None, :]
        dirs[:, :, 9 * (joint - 1):9 * joint] = block
    return dirs


def _pose_axes() -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """Curl and spread rotation axes of each finger (right hand)."""
    palm_down = np.array([0.0, -1.0, 0.0])
    axes = {}
    for name, finger in _FINGERS.items():
        target = palm_down if name != 'thumb' else np.array([0.0, -0.6, -0.8])
        curl = np.cross(finger.direction, target)
        spread = np.cross(curl, finger.direction)
        axes[name] = (curl / np.linalg.norm(curl), spread / np.linalg.norm(spread))
    return axes


def _hand_pca(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PCA basis ``(45, 45)`` (rows), mean pose ``(45,)`` and training coefficients."""
    axes = _pose_axes()

    def pose(per_joint: Dict[int, np.ndarray]) -> np.ndarray:
        vec = np.zeros(45)
        for joint, value in per_joint.items():
            vec[3 * (joint - 1):3 * joint] = value
        return vec

    def curl(names: Sequence[str], amounts: Sequence[float]) -> Dict[int, np.ndarray]:
        return {j: a * axes[n][0] for n in names
                for j, a in zip(_FINGERS[n].joints, amounts)}

    longs = ('index', 'middle', 'ring', 'pinky')
    spread_sign = {'index': 1.0, 'middle': 0.2, 'ring': -0.5, 'pinky': -1.0}
    designed = [
        pose({**curl(longs, (1.0, 1.0, 1.0)), **curl(['thumb'], (0.3, 0.5, 0.5))}),
        pose(curl(longs, (1.0, -0.5, -0.5))),
        pose({**curl(['index', 'middle'], (1.0, 1.0, 1.0)),
              **curl(['ring', 'pinky'], (-1.0, -1.0, -1.0))}),
        pose(curl(['thumb'], (1.0, 0.8, 0.6))),
        pose({_FINGERS[n].joints[0]: spread_sign[n] * axes[n][1] for n in longs}),
        pose(curl(['index'], (1.0, 1.0, 1.0))),
    ]
    basis = np.concatenate([np.stack(designed, 1), rng.normal(size=(45, 45 - len(designed)))],
                           axis=1)
    q, r = np.linalg.qr(basis)
    components = (q * np.sign(np.diag(r))).T
    mean = pose({**curl(longs, (0.15, 0.25, 0.12)), **curl(['thumb'], (0.1, 0.15, 0.1))})
    scales = 1.2 * 0.85 ** np.arange(45)
    coeffs = rng.normal(size=(1554, 45)) * scales
    return components, mean, coeffs


def _tip_assignment(fingers: Dict[str, Any]) -> Dict[int, int]:
    """Map natural vertex ids to the fingertip ids required by ``FINGERTIP_VERTS``."""
    wanted: Dict[int, int] = {}
    for k, name in enumerate(TIP_FINGERS):
        ids: List[int] = []
        for convention in FINGERTIP_VERTS.values():
            for side in ('right', 'left'):
                if convention[side][k] not in ids:
                    ids.append(convention[side][k])
        for target, natural in zip(ids, fingers[name]['tips']):
            wanted[natural] = target
    return wanted


def _mirror(arrays: Dict[str, Any]) -> Dict[str, Any]:
    """Left model: mirror ``x``, flip faces, mirror pose-dependent arrays accordingly."""
    flip = np.array([-1.0, 1.0, 1.0])
    out = dict(arrays)
    out['v_template'] = arrays['v_template'] * flip
    out['J'] = arrays['J'] * flip
    out['shapedirs'] = arrays['shapedirs'] * flip[None, :, None]
    # (R - I)_ab of the mirrored pose is flip_a flip_b (R - I)_ab; the offset's x flips too.
    pose_sign = np.tile(np.outer(flip, flip).reshape(9), 15)
    out['posedirs'] = arrays['posedirs'] * flip[None, :, None] * pose_sign[None, None, :]
    # Axis-angle vectors are axial: mirroring x negates their y and z components.
    aa_sign = np.tile(np.array([1.0, -1.0, -1.0]), 15)
    out['hands_components'] = arrays['hands_components'] * aa_sign
    out['hands_mean'] = arrays['hands_mean'] * aa_sign
    out['hands_coeffs'] = arrays['hands_coeffs'].copy()
    out['f'] = arrays['f'][:, ::-1].copy()
    return out


@lru_cache(maxsize=8)
def _standin_arrays_cached(side: str, seed: int) -> Dict[str, Any]:
    mesh = _build_right_mesh()
    if len(mesh['verts']) != NUM_VERTS or len(mesh['faces']) != NUM_FACES:
        raise RuntimeError(f'stand-in mesh has {len(mesh["verts"])} vertices and '
                           f'{len(mesh["faces"])} faces, expected {NUM_VERTS}, {NUM_FACES}')
    order = np.arange(NUM_VERTS)
    for natural, target in _tip_assignment(mesh['fingers']).items():
        position = int(np.flatnonzero(order == natural)[0])
        order[position], order[target] = order[target], order[position]
    inverse = np.argsort(order)
    rng = np.random.default_rng(seed)
    weights, regressor = _skinning(mesh)
    joints = regressor @ mesh['verts']
    shapedirs = _shapedirs(mesh, joints, rng)
    posedirs = _posedirs(mesh['verts'], mesh['faces'], weights, rng)
    components, mean, coeffs = _hand_pca(rng)
    arrays = {
        'v_template': mesh['verts'][order],
        'shapedirs': shapedirs[order],
        'posedirs': posedirs[order],
        'J_regressor': regressor[:, order],
        'weights': weights[order],
        'f': inverse[mesh['faces']].astype(np.int64),
        'kintree_table': np.array([[KINTREE_ROOT] + list(MANO_PARENTS[1:]), list(range(16))],
                                  dtype=np.int64),
        'hands_components': components,
        'hands_mean': mean,
        'hands_coeffs': coeffs,
        'J': joints,
        'bs_style': 'lbs',
        'bs_type': 'lrotmin',
    }
    return _mirror(arrays) if side == 'left' else arrays


def standin_mano_arrays(side: str = 'right', seed: int = 0) -> Dict[str, Any]:
    """Arrays of the stand-in MANO model, as :func:`load_mano_model` returns them.

    Deterministic in ``(side, seed)``: the mesh, skinning and regressor do not depend on the
    seed; ``shapedirs[..., 5:]``, ``posedirs``, the PCA basis beyond its first six
    (hand-designed) components and ``hands_coeffs`` do.

    Args:
        side: ``'right'`` or ``'left'`` (the mirror image).
        seed: Seed of the random parts.

    Returns:
        Dict of float64 arrays ``v_template (778, 3)``, ``shapedirs (778, 3, 10)``,
        ``posedirs (778, 3, 135)``, ``J_regressor (16, 778)`` (dense, rows sum to 1),
        ``weights (778, 16)`` (rows sum to 1), ``hands_components (45, 45)`` (orthonormal
        rows), ``hands_mean (45,)``, ``hands_coeffs (1554, 45)``, ``J (16, 3)``; int64
        ``f (1538, 3)`` and ``kintree_table (2, 16)``; strings ``bs_style``, ``bs_type``.
        Lengths are in metres. A fresh copy is returned on every call.
    """
    if side not in ('right', 'left'):
        raise ValueError(f"side must be 'right' or 'left', got {side!r}")
    cached = _standin_arrays_cached(side, int(seed))
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in cached.items()}


class _ClassPath:
    """A class reference written into a pickle by module and name only."""

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name


class _PickledObject:
    """An object pickled as ``copy_reg._reconstructor(cls, object, None)`` plus ``state``."""

    def __init__(self, class_path: _ClassPath, state: Dict[str, Any]) -> None:
        self.class_path = class_path
        self.state = state


class _OfficialLayoutPickler(pickle._Pickler):
    """Pure-Python pickler that writes chumpy / scipy class references without importing
    them, the way Python 2 pickled the official MANO files."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _ClassPath):
            return obj.name
        if isinstance(obj, _PickledObject):
            return copyreg._reconstructor, (obj.class_path, object, None), obj.state
        return NotImplemented

    def save_global(self, obj: Any, name: Any = None) -> None:
        if not isinstance(obj, _ClassPath):
            super().save_global(obj, name)
            return
        self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('ascii'))
        self.memoize(obj)


def _to_csc_state(dense: np.ndarray) -> Dict[str, Any]:
    """The pickled state of a ``scipy.sparse.csc_matrix`` holding ``dense``."""
    data, indices, indptr = [], [], [0]
    for column in dense.T:
        rows = np.flatnonzero(column)
        data.append(column[rows])
        indices.append(rows)
        indptr.append(indptr[-1] + len(rows))
    return {'_shape': dense.shape, 'maxprint': 50,
            'data': np.concatenate(data), 'indices': np.concatenate(indices).astype(np.int32),
            'indptr': np.array(indptr, dtype=np.int32)}


def make_standin_mano(path: str, side: str = 'right', seed: int = 0) -> None:
    """Write a stand-in model file laid out like the official ``MANO_{RIGHT,LEFT}.pkl``.

    Protocol-2 pickle of a dict: ``shapedirs`` is pickled as a ``chumpy.ch.Ch`` (value in
    ``state['x']``), ``J_regressor`` as a ``scipy.sparse.csc.csc_matrix``, ``f`` as uint32,
    the other arrays as float64 / int64 ndarrays. Neither chumpy nor scipy is needed to write
    or (with :func:`load_mano_model`) to read it. The file is a stand-in, not MANO.

    Args:
        path: Output file path.
        side: ``'right'`` or ``'left'``.
        seed: Seed passed to :func:`standin_mano_arrays`.
    """
    arrays = standin_mano_arrays(side, seed)
    content = dict(arrays)
    content['f'] = arrays['f'].astype(np.uint32)
    content['shapedirs'] = _PickledObject(_ClassPath('chumpy.ch', 'Ch'),
                                          {'x': arrays['shapedirs'], '_dirty_vars': set()})
    content['J_regressor'] = _PickledObject(_ClassPath('scipy.sparse.csc', 'csc_matrix'),
                                            _to_csc_state(arrays['J_regressor']))
    with open(path, 'wb') as f:
        _OfficialLayoutPickler(f, protocol=2).dump(content)
