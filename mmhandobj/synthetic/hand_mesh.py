"""Rest mesh of the procedural stand-in hand (NOT MANO): a right hand, 778 vertices.

A palm tube open at the wrist (a 16-vertex boundary loop, as in MANO) with four fingers
extruded from the knuckle face and a thumb extruded from the radial side, each finger a tube of
8-vertex rings over three phalanges. It is one connected, consistently oriented triangle mesh
(778 vertices, 1538 faces). :mod:`.hand_model` rigs it into MANO arrays.

Frame of the right hand in the rest pose (metres): fingers point to ``-x``, the back of the
hand faces ``+y`` (palm towards ``-y``), the thumb is on the ``+z`` side; the wrist joint is
near ``(0.088, 0, 0)`` and the knuckle face is the plane ``x = 0``. Every length below is in
metres.
"""
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

#: Vertices of the stand-in mesh (as MANO).
NUM_VERTS = 778
#: Triangles of the stand-in mesh (as MANO).
NUM_FACES = 1538

# Palm tube, metres: rows from the wrist (x = 0.088) to the knuckle face (x = 0), with the
# half width (z) and half thickness (y) of each row.
_ROW_X = np.array([0.088, 0.066, 0.044, 0.022, 0.0])
_ROW_HALF_WIDTH = np.array([0.034, 0.040, 0.043, 0.045, 0.045])
_ROW_HALF_THICK = np.array([0.015, 0.017, 0.016, 0.014, 0.012])
_NUM_COLS = 13  # dorsal (and palmar) columns; the ring is Rad, d0..d12, Uln, p12..p0 = 28
# z of the dorsal/palmar columns 0, 3, 6, 9, 12 at the knuckle row (finger boundaries).
_KNUCKLE_Z = np.array([0.041, 0.0195, -0.0025, -0.0225, -0.039])


class Finger:
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


#: The five fingers of the right hand (lengths and radii in metres).
FINGERS: Dict[str, Finger] = {
    'index': Finger('index', (1, 2, 3), (0.040, 0.024, 0.021), (5, 4, 5),
                     (-1.0, 0.0, 0.07), (0.0080, 0.0068)),
    'middle': Finger('middle', (4, 5, 6), (0.044, 0.028, 0.023), (5, 5, 5),
                      (-1.0, 0.0, 0.0), (0.0084, 0.0070)),
    'ring': Finger('ring', (10, 11, 12), (0.041, 0.027, 0.022), (5, 4, 5),
                    (-1.0, 0.0, -0.07), (0.0078, 0.0066)),
    'pinky': Finger('pinky', (7, 8, 9), (0.032, 0.020, 0.019), (4, 4, 4),
                     (-1.0, 0.0, -0.16), (0.0068, 0.0058)),
    'thumb': Finger('thumb', (13, 14, 15), (0.038, 0.032, 0.027), (5, 5, 5),
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


def _extrude_finger(builder: _MeshBuilder, finger: Finger,
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


def build_right_hand_mesh() -> Dict[str, Any]:
    """Build the right-hand rest mesh (natural vertex order) and its labels.

    Returns:
        Dict with ``verts`` ``(778, 3)`` float64 metres, ``faces`` ``(1538, 3)`` int64 (outward
        winding), per-vertex ``part`` (``'palm'``, ``'wrist'`` or a finger name) and ``arc``
        (metres along the finger chain, 0 off the fingers), the ``wrist_loop`` vertex ids and,
        per finger, its base loop, joint rings, tip candidates, base centre and side axis.
    """
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
        fingers[name] = _extrude_finger(builder, FINGERS[name], builder.remove_faces(quads))
    side = [(rings[j][27], rings[j][0], rings[j + 1][0], rings[j + 1][27]) for j in _THUMB_ROWS]
    fingers['thumb'] = _extrude_finger(builder, FINGERS['thumb'], builder.remove_faces(side))
    return dict(verts=np.array(builder.verts), faces=builder.triangles(),
                part=np.array(builder.part), arc=np.array(builder.arc),
                wrist_loop=wrist_loop, fingers=fingers)

