"""Independent geometry for the synthetic-world tests: a plain-numpy MANO and a ray caster.

Nothing here imports the world generator or ``ManoLayer``; the MANO arrays come from the
world's pickle files read by the MANO file reader.
"""
import numpy as np

# manopth's reordering of its 16 regressor joints + 5 tips (appended as 16..20 in the order
# thumb, index, middle, ring, pinky) into the simple order.
_SIMPLE_FROM_MANO_PLUS_TIPS = [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19,
                               7, 8, 9, 20]
_PARENTS = [-1, 0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14]


def rodrigues(aa: np.ndarray) -> np.ndarray:
    """Axis-angle ``(N, 3)`` -> rotation matrices ``(N, 3, 3)``, Rodrigues' formula."""
    out = np.empty((len(aa), 3, 3))
    for i, v in enumerate(aa):
        theta = np.linalg.norm(v)
        if theta < 1e-12:
            out[i] = np.eye(3)
            continue
        k = v / theta
        kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
        out[i] = np.eye(3) + np.sin(theta) * kx + (1 - np.cos(theta)) * kx @ kx
    return out


def mano_forward(model: dict, pose_aa: np.ndarray, betas: np.ndarray, trans: np.ndarray,
                 tips: list) -> tuple:
    """Explicit-loop MANO: full 48-D axis-angle (the actual rotations, flat convention).

    Returns:
        ``(778, 3)`` vertices and ``(16 + 5, 3)`` joints in MANO order followed by the tips
        (thumb, index, middle, ring, pinky), metres, translation added.
    """
    v_shaped = model['v_template'] + np.einsum('vck,k->vc', model['shapedirs'], betas)
    J = model['J_regressor'] @ v_shaped
    rots = rodrigues(pose_aa.reshape(16, 3))
    pose_map = (rots[1:] - np.eye(3)).reshape(-1)
    v_posed = v_shaped + np.einsum('vck,k->vc', model['posedirs'], pose_map)
    G = np.zeros((16, 4, 4))
    for i in range(16):
        local = np.eye(4)
        local[:3, :3] = rots[i]
        local[:3, 3] = J[i] if i == 0 else J[i] - J[_PARENTS[i]]
        G[i] = local if i == 0 else G[_PARENTS[i]] @ local
    joints = G[:, :3, 3].copy()
    # Skinning: each vertex moves by the weight-blended [R_j | p_j - R_j J_j].
    G_rest = G.copy()
    G_rest[:, :3, 3] -= np.einsum('jab,jb->ja', G[:, :3, :3], J)
    T = np.einsum('vj,jab->vab', model['weights'], G_rest)
    verts = np.einsum('vab,vb->va', T[:, :3, :3], v_posed) + T[:, :3, 3]
    joints = np.concatenate([joints, verts[tips]])
    return verts + trans, joints + trans


def to_simple(joints_mano_plus_tips: np.ndarray) -> np.ndarray:
    """MANO order + tips ``(21, 3)`` -> simple order."""
    return joints_mano_plus_tips[_SIMPLE_FROM_MANO_PLUS_TIPS]


def project(points_cv: np.ndarray, K: np.ndarray) -> np.ndarray:
    """OpenCV camera points ``(N, 3)`` -> pixels ``(N, 2)``."""
    uvw = points_cv @ K.T
    return uvw[:, :2] / uvw[:, 2:3]


def ray_depth(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, u: float,
              v: float) -> float:
    """Depth (z, metres) of the nearest triangle hit by the ray through pixel ``(u, v)``.

    Moeller-Trumbore per triangle, one at a time. Returns ``inf`` when nothing is hit.
    """
    d = np.linalg.solve(K, np.array([u, v, 1.0]))
    best = np.inf
    for a, b, c in vertices[faces]:
        e1, e2 = b - a, c - a
        p = np.cross(d, e2)
        det = e1 @ p
        if abs(det) < 1e-15:
            continue
        s = -a / det
        bu = s @ p
        q = np.cross(s, e1)
        bv = d @ q
        t = e2 @ q
        if bu >= 0 and bv >= 0 and bu + bv <= 1 and 0 < t < best:
            best = t
    return best * d[2]
