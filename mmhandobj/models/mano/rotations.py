"""Batched rotation conversions used by the MANO layer and the model heads.

All functions are pure PyTorch, work on any leading batch shape, keep the input dtype and
device, and are differentiable. Angles are in radians. Rotation matrices act on column
vectors (``y = R @ x``).
"""
import torch
import torch.nn.functional as F

#: Squared angle (rad^2) under which Taylor series replace the closed forms (angle < 1e-3 rad).
_SMALL_ANGLE_SQ = 1e-6


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """Rodrigues' formula: axis-angle vectors to rotation matrices.

    ``R = I + a K + b K^2`` with ``K`` the cross-product matrix of the vector,
    ``a = sin(t)/t`` and ``b = (1 - cos t)/t^2 = 0.5 (sin(t/2)/(t/2))^2``. Near ``t = 0`` both
    factors use their Taylor series, so the value and the gradient stay finite at zero.

    Args:
        axis_angle: ``(..., 3)`` rotation vectors (unit axis times angle in radians).

    Returns:
        ``(..., 3, 3)`` rotation matrices.
    """
    if axis_angle.shape[-1] != 3:
        raise ValueError(f'axis_angle must have shape (..., 3), got {tuple(axis_angle.shape)}')
    angle_sq = (axis_angle * axis_angle).sum(-1)
    small = angle_sq < _SMALL_ANGLE_SQ
    safe_sq = torch.where(small, torch.ones_like(angle_sq), angle_sq)
    angle = safe_sq.sqrt()
    half = 0.5 * angle
    sin_over = torch.where(small, 1.0 - angle_sq / 6.0, torch.sin(angle) / angle)
    versin_over = torch.where(small, 0.5 - angle_sq / 24.0,
                              0.5 * (torch.sin(half) / half) ** 2)
    x, y, z = axis_angle.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1)
    skew = skew.reshape(axis_angle.shape[:-1] + (3, 3))
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    # K^2 = a a^T - |a|^2 I (no batched 3x3 matmul needed).
    skew_sq = axis_angle[..., :, None] * axis_angle[..., None, :] - angle_sq[..., None, None] * eye
    return (eye + sin_over[..., None, None] * skew
            + versin_over[..., None, None] * skew_sq)


def matrix_to_quaternion(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrices to unit quaternions ``(w, x, y, z)`` with ``w >= 0``.

    Each of the four components yields one candidate quaternion (divide the matrix's
    symmetric/antisymmetric parts by four times that component); the candidate built on the
    largest component is used, which is well conditioned for every rotation, including
    angles near pi.

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 4)`` unit quaternions, scalar first.
    """
    if matrix.shape[-2:] != (3, 3):
        raise ValueError(f'matrix must have shape (..., 3, 3), got {tuple(matrix.shape)}')
    m = matrix.reshape(matrix.shape[:-2] + (9,))
    r00, r01, r02, r10, r11, r12, r20, r21, r22 = m.unbind(-1)
    four_sq = torch.stack([1.0 + r00 + r11 + r22, 1.0 + r00 - r11 - r22,
                           1.0 - r00 + r11 - r22, 1.0 - r00 - r11 + r22], dim=-1)
    two_abs = four_sq.clamp(min=1e-12).sqrt()
    candidates = torch.stack([
        torch.stack([four_sq[..., 0], r21 - r12, r02 - r20, r10 - r01], dim=-1),
        torch.stack([r21 - r12, four_sq[..., 1], r01 + r10, r02 + r20], dim=-1),
        torch.stack([r02 - r20, r01 + r10, four_sq[..., 2], r12 + r21], dim=-1),
        torch.stack([r10 - r01, r02 + r20, r12 + r21, four_sq[..., 3]], dim=-1),
    ], dim=-2) / (2.0 * two_abs[..., None])
    best = four_sq.argmax(dim=-1)
    index = best[..., None, None].expand(best.shape + (1, 4))
    quat = candidates.gather(-2, index).squeeze(-2)
    sign = torch.where(quat[..., :1] < 0, -torch.ones_like(quat[..., :1]),
                       torch.ones_like(quat[..., :1]))
    return F.normalize(quat * sign, dim=-1)


def matrix_to_axis_angle(matrix: torch.Tensor) -> torch.Tensor:
    """Rotation matrices to axis-angle vectors with angle in ``[0, pi]``.

    Goes through :func:`matrix_to_quaternion`; the angle is ``2 atan2(|v|, w)``, which is
    accurate near 0 and near pi. At exactly pi the axis sign is arbitrary (both are valid).

    Args:
        matrix: ``(..., 3, 3)`` rotation matrices.

    Returns:
        ``(..., 3)`` rotation vectors (radians).
    """
    quat = matrix_to_quaternion(matrix)
    w, vec = quat[..., :1], quat[..., 1:]
    norm_sq = (vec * vec).sum(-1, keepdim=True)
    small = norm_sq < _SMALL_ANGLE_SQ
    safe_norm = torch.where(small, torch.ones_like(norm_sq), norm_sq).sqrt()
    # Each branch only sees inputs it is valid for: torch.where propagates a zero gradient into
    # the unused branch, and 0 * inf = nan (w = 0 at angle pi would poison the series' 1 / w).
    safe_w = torch.where(small, w, torch.ones_like(w))
    # For small |v|: 2 atan2(n, w) / n = (2 / w) (1 - n^2 / (3 w^2) + ...), with w close to 1.
    factor = torch.where(small, 2.0 / safe_w - 2.0 * norm_sq / (3.0 * safe_w ** 3),
                         2.0 * torch.atan2(safe_norm, w) / safe_norm)
    return vec * factor


def rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """Continuous 6D representation to rotation matrices (HFL-Net ``rot6d2mat`` convention).

    With ``a1 = x[..., 0:3]`` and ``a2 = x[..., 3:6]``: ``b1 = normalize(a1)``,
    ``b2 = normalize(a2 - <b1, a2> b1)``, ``b3 = b1 x b2``, and ``R = [b1 b2 b3]`` with the
    ``b`` vectors as **columns**.

    Args:
        rot6d: ``(..., 6)`` raw network outputs.

    Returns:
        ``(..., 3, 3)`` rotation matrices (determinant +1).
    """
    if rot6d.shape[-1] != 6:
        raise ValueError(f'rot6d must have shape (..., 6), got {tuple(rot6d.shape)}')
    a1, a2 = rot6d[..., 0:3], rot6d[..., 3:6]
    b1 = F.normalize(a1, dim=-1)
    b2 = F.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1)
    b3 = torch.linalg.cross(b1, b2, dim=-1)
    return torch.stack([b1, b2, b3], dim=-1)


def robust_rot6d_to_matrix(rot6d: torch.Tensor) -> torch.Tensor:
    """6D to rotation matrix treating both input vectors symmetrically (manopth ``robust_rot``).

    ``u = normalize(a1)``, ``v = normalize(a2)``; the bisector ``m = normalize(u + v)`` and
    ``n = normalize(u - v)`` are orthogonal, so ``b1 = normalize(m + n)`` and
    ``b2 = normalize(m - n)`` are orthonormal and equally close to ``a1`` and ``a2``;
    ``b3 = b1 x b2``. Columns of the result are ``b1, b2, b3``.

    Args:
        rot6d: ``(..., 6)`` with ``a1 = rot6d[..., :3]`` and ``a2 = rot6d[..., 3:]``.

    Returns:
        ``(..., 3, 3)`` rotation matrices.
    """
    u = F.normalize(rot6d[..., 0:3], dim=-1)
    v = F.normalize(rot6d[..., 3:6], dim=-1)
    m = F.normalize(u + v, dim=-1)
    n = F.normalize(u - v, dim=-1)
    b1 = F.normalize(m + n, dim=-1)
    b2 = F.normalize(m - n, dim=-1)
    return torch.stack([b1, b2, torch.linalg.cross(b1, b2, dim=-1)], dim=-1)
