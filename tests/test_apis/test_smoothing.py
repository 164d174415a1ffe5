"""One-Euro smoothing: closed-form steps, measured jitter reduction and lag on noisy tracks."""
import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from mmhandobj.apis.smoothing import HandObjectSmoother, OneEuroFilter, RotationOneEuroFilter

FPS = 30.0
#: The lag bound stated in mmhandobj.apis.smoothing for these speeds (peak 0.31 m/s joints,
#: 1 rad/s object), frames.
MAX_LAG_FRAMES = 2


def _best_shift(errors_for_shift):
    return int(np.argmin([errors_for_shift(s) for s in range(6)]))


def test_one_step_matches_the_closed_form():
    # beta = 0 and dt = 1 / (2 pi min_cutoff): tau = dt, so alpha = 1 / 2.
    dt = 1 / (2 * math.pi)
    filt = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    assert filt(np.array([0.0, 2.0]), dt).tolist() == [0.0, 2.0]
    np.testing.assert_allclose(filt(np.array([1.0, 0.0]), dt), [0.5, 1.0])
    rot = RotationOneEuroFilter(min_cutoff=1.0, beta=0.0)
    rot(np.eye(3), dt)
    target = Rotation.from_rotvec([0.0, 0.0, 1.2]).as_matrix()
    half = Rotation.from_rotvec([0.0, 0.0, 0.6]).as_matrix()
    np.testing.assert_allclose(rot(target, dt), half, atol=1e-12)


def test_joint_track_jitter_drops_without_lag():
    rng = np.random.default_rng(0)
    t = np.arange(300) / FPS
    clean = 0.1 * np.sin(2 * np.pi * 0.5 * t)[:, None, None] * np.ones((1, 21, 3))  # metres
    noisy = clean + rng.normal(0, 0.005, clean.shape)                             # 5 mm noise
    smoother = HandObjectSmoother(FPS)
    out = np.stack([smoother(dict(hand_joints3d=x))['hand_joints3d'] for x in noisy])
    # frame-to-frame jitter: the frame steps' deviation from the true motion's steps
    jitter = lambda x: np.abs(np.diff(x, axis=0) - np.diff(clean, axis=0)).mean()  # noqa: E731
    assert jitter(out) < 0.5 * jitter(noisy)
    error = lambda s: np.abs(out[30:] - clean[30 - s:len(clean) - s]).mean()  # noqa: E731
    lag = _best_shift(error)
    assert lag <= MAX_LAG_FRAMES
    assert error(lag) < np.abs(noisy - clean)[30:].mean()  # closer, once lag is removed


def test_rotation_track_is_smoothed_on_the_group():
    rng = np.random.default_rng(1)
    n = 240
    clean = Rotation.from_rotvec(np.outer(np.arange(n) / FPS, [0.0, 1.0, 0.0]))  # 1 rad/s
    noise = Rotation.from_rotvec(rng.normal(0, math.radians(2), (n, 3)))
    noisy = clean * noise
    smoother = HandObjectSmoother(FPS)
    out = [smoother(dict(obj_rot=r))['obj_rot'] for r in noisy.as_matrix()]
    for mat in out:
        np.testing.assert_allclose(mat @ mat.T, np.eye(3), atol=1e-9)
        assert np.linalg.det(mat) == pytest.approx(1.0)
    out = Rotation.from_matrix(np.stack(out))
    step = lambda r: (r[:-1].inv() * r[1:]).magnitude()  # noqa: E731
    expected_step = 1.0 / FPS
    assert np.abs(step(out) - expected_step).mean() < 0.5 * np.abs(
        step(noisy) - expected_step).mean()
    error = lambda s: (out[30:].inv() * clean[30 - s:n - s]).magnitude().mean()  # noqa: E731
    lag = _best_shift(error)
    assert lag <= MAX_LAG_FRAMES
    assert error(lag) < (noisy[30:].inv() * clean[30:]).magnitude().mean()


def test_bad_arguments():
    with pytest.raises(ValueError, match='min_cutoff'):
        OneEuroFilter(min_cutoff=0.0)
    with pytest.raises(ValueError, match='fps'):
        HandObjectSmoother(0)
    filt = OneEuroFilter()
    filt(np.zeros(3), 0.1)
    with pytest.raises(ValueError, match='shape changed'):
        filt(np.zeros(4), 0.1)


def test_resetting_the_object_keeps_the_hand_filters():
    smoother = HandObjectSmoother(FPS)
    smoother(dict(hand_joints3d=np.zeros((21, 3)), obj_trans=np.zeros(3), obj_rot=np.eye(3)))
    smoother.reset(HandObjectSmoother.OBJECT_KEYS)
    turn = Rotation.from_rotvec([0.0, 0.0, 0.5]).as_matrix()
    out = smoother(dict(hand_joints3d=np.ones((21, 3)), obj_trans=np.ones(3), obj_rot=turn))
    # a reset filter passes its first sample through; the hand filter still blends in the past
    np.testing.assert_array_equal(out['obj_trans'], np.ones(3))
    np.testing.assert_allclose(out['obj_rot'], turn, atol=1e-12)
    assert 0.0 < out['hand_joints3d'].max() < 1.0
