"""Rotation helpers checked against closed forms written here in numpy (float64)."""
import math

import numpy as np
import pytest
import torch

from mmhandobj.models.mano import (
    axis_angle_to_matrix,
    matrix_to_axis_angle,
    robust_rot6d_to_matrix,
    rot6d_to_matrix,
)


def quaternion_rotation(axis_angle: np.ndarray) -> np.ndarray:
    """Rotation matrix of a rotation vector via the unit quaternion (a different route)."""
    angle = np.linalg.norm(axis_angle)
    if angle == 0:
        return np.eye(3)
    w = math.cos(angle / 2)
    x, y, z = math.sin(angle / 2) * axis_angle / angle
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])


def random_vectors(rng: np.random.Generator, n: int, angles: np.ndarray) -> np.ndarray:
    axes = rng.normal(size=(n, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    return axes * angles[:, None]


@pytest.mark.parametrize('low,high', [(0.0, 1e-5), (1e-5, 2e-3), (0.1, 3.0)])
def test_axis_angle_to_matrix_matches_quaternion_formula(low, high):
    rng = np.random.default_rng(0)
    aa = random_vectors(rng, 50, rng.uniform(low, high, size=50))
    out = axis_angle_to_matrix(torch.from_numpy(aa)).numpy()
    expected = np.stack([quaternion_rotation(v) for v in aa])
    np.testing.assert_allclose(out, expected, atol=1e-12)
    out32 = axis_angle_to_matrix(torch.from_numpy(aa).float()).numpy()
    np.testing.assert_allclose(out32, expected, atol=2e-6)


def test_axis_angle_to_matrix_batch_shape_and_zero_gradient():
    aa = torch.zeros(2, 5, 3, dtype=torch.float64, requires_grad=True)
    rot = axis_angle_to_matrix(aa)
    assert rot.shape == (2, 5, 3, 3)
    np.testing.assert_allclose(rot.detach().numpy(), np.broadcast_to(np.eye(3), (2, 5, 3, 3)))
    weights = torch.arange(9, dtype=torch.float64).reshape(3, 3)
    (rot * weights).sum().backward()
    # d R / d aa at 0 is the skew-matrix generator: dR_zy/dx = 1, dR_yz/dx = -1, ...
    grad = aa.grad[0, 0].numpy()
    w = weights.numpy()
    np.testing.assert_allclose(grad, [w[2, 1] - w[1, 2], w[0, 2] - w[2, 0], w[1, 0] - w[0, 1]])
    assert torch.autograd.gradcheck(axis_angle_to_matrix,
                                    (torch.full((1, 3), 1e-4, dtype=torch.float64,
                                                requires_grad=True),))


@pytest.mark.parametrize('low,high', [(1e-9, 1e-4), (1e-4, 0.1), (0.1, 3.0),
                                      (math.pi - 1e-3, math.pi - 1e-7)])
def test_axis_angle_round_trip(low, high):
    rng = np.random.default_rng(1)
    aa = random_vectors(rng, 64, rng.uniform(low, high, size=64))
    rot = np.stack([quaternion_rotation(v) for v in aa])
    back = matrix_to_axis_angle(torch.from_numpy(rot)).numpy()
    # Near pi the axis is ill-conditioned by ~1/(pi - angle); compare up to that conditioning.
    tol = 1e-9 if high < 3.0 else (1e-8 if high == 3.0 else 2e-5)
    np.testing.assert_allclose(back, aa, atol=tol, rtol=0)


def test_matrix_to_axis_angle_at_pi_and_identity():
    rng = np.random.default_rng(2)
    aa = random_vectors(rng, 20, np.full(20, math.pi))
    rot = torch.from_numpy(np.stack([quaternion_rotation(v) for v in aa]))
    back = matrix_to_axis_angle(rot)
    np.testing.assert_allclose(back.norm(dim=-1).numpy(), math.pi, atol=1e-6)
    # Either sign of the axis is the same rotation at pi.
    np.testing.assert_allclose(axis_angle_to_matrix(back).numpy(), rot.numpy(), atol=1e-6)
    zero = matrix_to_axis_angle(torch.eye(3).expand(4, 3, 3))
    assert torch.equal(zero, torch.zeros(4, 3))
    rot32 = rot.float()
    np.testing.assert_allclose(axis_angle_to_matrix(matrix_to_axis_angle(rot32)).numpy(),
                               rot.numpy(), atol=1e-5)


@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_matrix_to_axis_angle_gradient_is_finite_at_pi(dtype):
    """A half-turn (quaternion w = 0) once made the unused small-angle branch's 1 / w turn the
    whole gradient into nan, which killed a training run through HandMANOHead's rot6d path."""
    rng = np.random.default_rng(3)
    half_turns = [np.diag(d) for d in ([1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0])]
    half_turns += [quaternion_rotation(v) for v in random_vectors(rng, 5, np.full(5, math.pi))]
    rot = torch.tensor(np.stack(half_turns), dtype=dtype, requires_grad=True)
    matrix_to_axis_angle(rot).sum().backward()
    assert torch.isfinite(rot.grad).all()
    # the network's route: rot6d columns of a half-turn about x
    rot6d = torch.tensor([[1.0, 0.0, 0.0, 0.0, -1.0, 0.0]], dtype=dtype, requires_grad=True)
    aa = matrix_to_axis_angle(rot6d_to_matrix(rot6d))
    np.testing.assert_allclose(aa.detach().abs().numpy(), [[math.pi, 0.0, 0.0]], atol=1e-6)
    aa.square().sum().backward()
    assert torch.isfinite(rot6d.grad).all()


def test_rot6d_to_matrix_is_gram_schmidt_columns():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(100, 6))
    out = rot6d_to_matrix(torch.from_numpy(x)).numpy()
    for raw, rot in zip(x, out):
        a1, a2 = raw[:3], raw[3:]
        b1 = a1 / np.linalg.norm(a1)
        b2 = a2 - b1.dot(a2) * b1
        b2 /= np.linalg.norm(b2)
        b3 = np.cross(b1, b2)
        np.testing.assert_allclose(rot[:, 0], b1, atol=1e-12)
        np.testing.assert_allclose(rot[:, 1], b2, atol=1e-12)
        np.testing.assert_allclose(rot[:, 2], b3, atol=1e-12)
    np.testing.assert_allclose(np.swapaxes(out, 1, 2) @ out, np.broadcast_to(np.eye(3), out.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(out), 1.0, atol=1e-12)


def test_robust_rot6d_is_a_symmetric_orthonormalisation():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 6))
    out = robust_rot6d_to_matrix(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(np.swapaxes(out, 1, 2) @ out, np.broadcast_to(np.eye(3), out.shape),
                               atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(out), 1.0, atol=1e-12)
    u = x[:, :3] / np.linalg.norm(x[:, :3], axis=1, keepdims=True)
    v = x[:, 3:] / np.linalg.norm(x[:, 3:], axis=1, keepdims=True)
    # b1 is as close to a1 as b2 is to a2, and both lie in the plane of a1 and a2.
    np.testing.assert_allclose(np.einsum('ij,ij->i', out[:, :, 0], u),
                               np.einsum('ij,ij->i', out[:, :, 1], v), atol=1e-12)
    np.testing.assert_allclose(np.einsum('ij,ij->i', out[:, :, 2], u), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.einsum('ij,ij->i', out[:, :, 2], v), 0.0, atol=1e-12)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match=r'\(\.\.\., 3\)'):
        axis_angle_to_matrix(torch.zeros(4, 4))
    with pytest.raises(ValueError, match=r'\(\.\.\., 6\)'):
        rot6d_to_matrix(torch.zeros(4, 5))
    with pytest.raises(ValueError, match=r'\(\.\.\., 3, 3\)'):
        matrix_to_axis_angle(torch.zeros(4, 3, 4))
