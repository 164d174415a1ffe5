"""Procedural stand-in for the MANO hand model (NOT MANO; for tests and synthetic data).

The MANO licence forbids redistributing ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``, so tests, CI
and the synthetic dataset use this generated model instead. It has exactly the official keys,
shapes and dtypes and the MANO kinematic tree: the rest mesh of :mod:`.hand_mesh` with skinning
weights, a joint regressor, shape and pose blend shapes and a pose PCA (this module), written
in the official file layout by :func:`~mmhandobj.models.mano.mano_writer.write_mano_file`.

Positive rotations about ``+z`` at the finger joints curl the fingers towards the palm. The
left model is the mirror image (``x`` negated, faces flipped), like ``MANO_LEFT``.

Every fingertip vertex id of :data:`~mmhandobj.structures.joint_orders.FINGERTIP_VERTS` is put on
the tip of its finger: the first listed id (manopth, right) is the apex of the finger; the other
ids sit on the small ring around the apex (pad side), a few millimetres away.
"""
from functools import lru_cache
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

from mmhandobj.models.mano.mano_layer import STANDIN_HAND_MODEL
from mmhandobj.models.mano.mano_writer import KINTREE_ROOT, write_mano_file
from mmhandobj.registry import HAND_MODELS
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS

from .hand_mesh import FINGERS, NUM_FACES, NUM_VERTS, TIP_FINGERS, build_right_hand_mesh
from .meshes import vertex_normals

#: Parent of each MANO joint (joint 0, the wrist, has none); MANO joint order.
MANO_PARENTS: Tuple[int, ...] = (-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)

def _skinning(mesh: Dict[str, Any]) -> Tuple[np.ndarray, np.ndarray]:
    """Skinning weights ``(778, 16)`` and dense joint regressor ``(16, 778)``."""
    weights = np.zeros((NUM_VERTS, 16))
    weights[:, 0] = 1.0
    regressor = np.zeros((16, NUM_VERTS))
    regressor[0, mesh['wrist_loop']] = 1.0 / len(mesh['wrist_loop'])
    base_share: Dict[int, List[int]] = {}
    for name, info in mesh['fingers'].items():
        finger = FINGERS[name]
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


def _shapedirs(mesh: Dict[str, Any], joints: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Ten smooth shape directions ``(778, 3, 10)`` in metres per unit beta."""
    verts, part, arc = mesh['verts'], mesh['part'], mesh['arc']
    dirs = np.zeros((NUM_VERTS, 3, 10))
    dirs[:, :, 0] = 0.03 * (verts - joints[0])
    for name, info in mesh['fingers'].items():
        on = part == name
        finger = FINGERS[name]
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
    normals = vertex_normals(verts, faces)
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
    for name, finger in FINGERS.items():
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
                for j, a in zip(FINGERS[n].joints, amounts)}

    longs = ('index', 'middle', 'ring', 'pinky')
    spread_sign = {'index': 1.0, 'middle': 0.2, 'ring': -0.5, 'pinky': -1.0}
    designed = [
        pose({**curl(longs, (1.0, 1.0, 1.0)), **curl(['thumb'], (0.3, 0.5, 0.5))}),
        pose(curl(longs, (1.0, -0.5, -0.5))),
        pose({**curl(['index', 'middle'], (1.0, 1.0, 1.0)),
              **curl(['ring', 'pinky'], (-1.0, -1.0, -1.0))}),
        pose(curl(['thumb'], (1.0, 0.8, 0.6))),
        pose({FINGERS[n].joints[0]: spread_sign[n] * axes[n][1] for n in longs}),
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
    mesh = build_right_hand_mesh()
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


@HAND_MODELS.register_module(name=STANDIN_HAND_MODEL)
def standin_mano_arrays(side: str = 'right', seed: int = 0) -> Dict[str, Any]:
    """Arrays of the stand-in MANO model, as :func:`load_mano_model` returns them.

    Registered as ``'standin'`` in :data:`~mmhandobj.registry.HAND_MODELS`: what
    ``ManoLayer(standin_seed=seed)`` builds.

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


def make_standin_mano(path: str, side: str = 'right', seed: int = 0) -> None:
    """Write a stand-in model file laid out like the official ``MANO_{RIGHT,LEFT}.pkl``.

    The arrays of :func:`standin_mano_arrays` written by
    :func:`~mmhandobj.models.mano.mano_writer.write_mano_file` (chumpy ``Ch`` shapedirs, scipy
    CSC ``J_regressor``, protocol 2). The file is a stand-in, not MANO.

    Args:
        path: Output file path.
        side: ``'right'`` or ``'left'``.
        seed: Seed passed to :func:`standin_mano_arrays`.
    """
    write_mano_file(path, standin_mano_arrays(side, seed))
