import cv2
import numpy as np
import pytest
import torch

from mmhandobj.models.heads import select_votes, solve_object_pose
from mmhandobj.structures import bbox21_from_points
from mmhandobj.structures.geometry import box_normalised_to_pixels


def _greedy_reference(px, py, conf, topk, thr):
    """The reference's selection loop, written out (one sample, (H*W, K) numpy arrays)."""
    conf = conf.copy()
    n_kp = conf.shape[1]
    points, ids = [], []
    for _ in range(min(len(conf), topk)):
        best = conf.argmax(axis=0)
        for k in range(n_kp):
            if conf[best[k], k] > thr:
                points.append((px[best[k], k], py[best[k], k]))
                ids.append(k)
        conf[best, np.arange(n_kp)] = 0
    return np.array(points, dtype=np.float32).reshape(-1, 2), np.array(ids, dtype=np.int64)


def test_select_votes_matches_greedy_loop_with_ties():
    rng = np.random.default_rng(0)
    b, h, w, k = 3, 6, 5, 4
    vx = torch.from_numpy(rng.random((b, h, w, k), dtype=np.float32))
    vy = torch.from_numpy(rng.random((b, h, w, k), dtype=np.float32))
    # Few distinct values -> many ties, and some keypoints with fewer than topk kept cells.
    conf = torch.from_numpy(rng.choice(np.float32([0.2, 0.5, 0.6, 0.8]), size=(b, h, w, k)))
    selected = select_votes(vx, vy, conf, topk=7, conf_thr=0.5)
    assert len(selected) == b
    for i, (points, ids) in enumerate(selected):
        ref_points, ref_ids = _greedy_reference(
            vx[i].reshape(h * w, k).numpy(), vy[i].reshape(h * w, k).numpy(),
            conf[i].reshape(h * w, k).numpy(), 7, 0.5)
        np.testing.assert_array_equal(ids.numpy(), ref_ids)
        np.testing.assert_array_equal(points.numpy(), ref_points)


def _rotation(axis_angle):
    return cv2.Rodrigues(np.asarray(axis_angle, dtype=np.float64))[0]


def test_pnp_recovers_known_pose_from_noiseless_votes():
    rng = np.random.default_rng(1)
    kps3d = bbox21_from_points(rng.uniform([-0.05, -0.03, -0.08], [0.05, 0.03, 0.08], (500, 3)))
    K = np.array([[480.0, 0.0, 128.0], [0.0, 470.0, 126.0], [0.0, 0.0, 1.0]])
    R_gt, t_gt = _rotation([0.3, -0.5, 0.2]), np.array([0.02, -0.01, 0.55])
    cam = kps3d.astype(np.float64) @ R_gt.T + t_gt
    uv = cam[:, :2] / cam[:, 2:] * np.diag(K)[:2] + K[:2, 2]
    box = np.concatenate([uv.min(0) - 12.0, uv.max(0) + 9.0])
    uv_norm = (uv - box[:2]) / (box[2:] - box[:2])

    h = w = 32
    n_kp = 21
    vx = rng.uniform(-1, 2, (1, h, w, n_kp))
    vy = rng.uniform(-1, 2, (1, h, w, n_kp))
    conf = rng.uniform(0.0, 0.45, (1, h, w, n_kp))
    for k in range(n_kp):
        cells = rng.choice(h * w, size=3, replace=False)
        rows, cols = np.unravel_index(cells, (h, w))
        vx[0, rows, cols, k], vy[0, rows, cols, k] = uv_norm[k]
        conf[0, rows, cols, k] = rng.uniform(0.8, 0.95, 3)
    (points, ids), = select_votes(*(torch.from_numpy(a) for a in (vx, vy, conf)))
    assert len(points) == 3 * n_kp
    px = box_normalised_to_pixels(points, torch.from_numpy(box))
    np.testing.assert_allclose(px.numpy(), uv[ids.numpy()], atol=1e-9)

    R, t, ok = solve_object_pose(px, kps3d[ids.numpy()], K)
    assert ok
    np.testing.assert_allclose(R, R_gt, atol=1e-4)
    np.testing.assert_allclose(t, t_gt, atol=1e-4)


def test_pnp_falls_back_without_confident_votes():
    votes = torch.rand(2, 32, 32, 21)
    conf = torch.full((2, 32, 32, 21), 0.5)  # not strictly above the threshold
    for points, ids in select_votes(votes, votes, conf):
        assert points.shape == (0, 2) and ids.shape == (0,)
        R, t, ok = solve_object_pose(points, np.zeros((0, 3)), np.eye(3))
        assert not ok
        np.testing.assert_array_equal(R, np.eye(3))
        np.testing.assert_array_equal(t, [0.0, 0.0, 1.0])


def test_pnp_falls_back_below_min_points_and_checks_inputs():
    p2d, p3d = np.random.rand(5, 2) * 100, np.random.rand(5, 3)
    R, t, ok = solve_object_pose(p2d, p3d, np.eye(3))
    assert not ok and (t == [0, 0, 1]).all()
    with pytest.raises(ValueError, match='model points'):
        solve_object_pose(p2d, p3d[:4], np.eye(3))
    with pytest.raises(ValueError, match='points3d'):
        solve_object_pose(p2d, p3d[:, :2], np.eye(3))


def test_box_normalised_to_pixels_batched():
    points = torch.tensor([[[0.0, 0.0], [1.0, 1.0], [0.5, 0.25]]])
    box = torch.tensor([[10.0, 20.0, 50.0, 100.0]])
    expected = torch.tensor([[[10.0, 20.0], [50.0, 100.0], [30.0, 40.0]]])
    torch.testing.assert_close(box_normalised_to_pixels(points, box), expected)
