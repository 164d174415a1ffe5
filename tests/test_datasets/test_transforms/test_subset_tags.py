"""Subset tags: hand occlusion and hand-object distance, against slow independent computations."""
import os.path as osp
import pickle

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope
from scipy.spatial import Delaunay

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.transforms import ComputeHandObjectSubsets, hand_occlusion
from mmhandobj.structures import MANO_TO_SIMPLE

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
GL = np.diag([1.0, -1.0, -1.0])
K = np.array([[500.0, 0.0, 40.0], [0.0, 500.0, 30.0], [0.0, 0.0, 1.0]])


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _slow_occlusion(points, mask):
    """Per-pixel loop: pixel centres inside the hull (Delaunay simplices) and on the mask."""
    triangulation = Delaunay(points)
    area = covered = 0
    for v in range(mask.shape[0]):
        for u in range(mask.shape[1]):
            if triangulation.find_simplex(np.array([u, v], float)) >= 0:
                area += 1
                covered += int(mask[v, u] != 0)
    return covered / area


def test_occlusion_matches_per_pixel_loop(rng):
    mask = np.zeros((60, 80), np.uint8)
    cv2.circle(mask, (45, 28), 14, 1, -1)
    mask[rng.random(mask.shape) < 0.05] = 1  # speckles
    for _ in range(5):
        points = rng.uniform((5, 5), (70, 55), size=(12, 2))
        assert hand_occlusion(points, mask) == pytest.approx(
            _slow_occlusion(points, mask), abs=1e-12)


def test_occlusion_closed_forms():
    mask = np.zeros((20, 30), np.uint8)
    mask[:, 10:] = 1  # columns 10..29
    square = np.array([[5.0, 2.0], [14.0, 2.0], [14.0, 11.0], [5.0, 11.0]])
    # columns 5..14 (10) x rows 2..11 (10); covered: columns 10..14
    assert hand_occlusion(square, mask) == pytest.approx(5 / 10)
    # a hull reaching out of the image: only in-image pixels count (columns 0..4 uncovered,
    # 10..14 covered, rows 0..11)
    assert hand_occlusion(square - [10.0, 5.0], mask) == pytest.approx(0.0)
    assert hand_occlusion(square + [10.0, 0.0], mask) == pytest.approx(1.0)
    assert np.isnan(hand_occlusion(square + [100.0, 0.0], mask))
    assert np.isnan(hand_occlusion(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), mask))
    assert np.isnan(hand_occlusion(np.full((4, 2), np.nan), mask))


def test_transform_tags_with_brute_force_distance(tmp_path, rng):
    """Occlusion of the projected joints and the hand-object distance (a double loop over the
    model points posed in the camera), on a 80 x 60 image."""
    points = rng.uniform(-0.03, 0.03, size=(40, 3))
    (tmp_path / 'box').mkdir()
    np.savetxt(tmp_path / 'box' / 'points.xyz', points)
    rot = cv2.Rodrigues(np.array([0.3, -0.2, 0.5]))[0]
    pose = np.concatenate([rot, np.array([[0.01], [0.0], [0.6]])], axis=1)
    joints = np.array([0.0, 0.0, 0.65]) + rng.uniform(-0.03, 0.03, size=(21, 3))
    mask = np.zeros((60, 80), np.uint8)
    mask[20:45, 30:70] = 1
    results = dict(ori_cam_intr=K.astype(np.float32), has_hand=True, hand_joints3d_cam=joints,
                   obj_mask_full=mask, has_obj=True, obj_name='box', obj_pose=pose,
                   obj_model_root=str(tmp_path))
    out = ComputeHandObjectSubsets()(dict(results))
    projected = [(K @ j)[:2] / (K @ j)[2] for j in joints]
    assert out['hand_occlusion'] == pytest.approx(
        _slow_occlusion(np.array(projected), mask), abs=1e-9)
    posed = [rot @ p + pose[:, 3] for p in points]
    expected = min(np.linalg.norm(j - p) for j in joints for p in posed)
    assert out['hand_obj_distance'] == pytest.approx(expected, rel=1e-9)
    # the vertices, when present, are the hand's points
    verts = joints[:5] + 0.001
    out = ComputeHandObjectSubsets()(dict(results, hand_verts3d_cam=verts))
    expected = min(np.linalg.norm(v - p) for v in verts for p in posed)
    assert out['hand_obj_distance'] == pytest.approx(expected, rel=1e-9)
    # no hand: both NaN; no object or no mask: NaN for that tag only
    out = ComputeHandObjectSubsets()(dict(results, has_hand=False))
    assert np.isnan(out['hand_occlusion']) and np.isnan(out['hand_obj_distance'])
    no_obj = dict(results, has_obj=False)
    del no_obj['obj_mask_full']
    out = ComputeHandObjectSubsets()(no_obj)
    assert np.isnan(out['hand_occlusion']) and np.isnan(out['hand_obj_distance'])


def test_ho3d_test_pipeline_packs_the_tags(ho3d_root):
    """The shipped HO3D test pipeline on the synthetic world's train frames: the packed
    metainfo equals the occlusion of the raw joints' hull on the raw segmentation (blue > 200)
    and the brute-force distance of the raw joints to the raw posed model points (OpenGL)."""
    init_default_scope('mmhandobj')
    cfg = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'datasets', 'ho3d.py'))
    dataset = HO3DDataset(data_root=ho3d_root, split='train', pipeline=cfg.test_pipeline,
                          test_mode=True)
    for index in (0, 5):
        sample = dataset[index]['data_samples']
        info = dataset.get_data_info(index)
        seq, fid = info['frame_key'].split('/')
        with open(osp.join(ho3d_root, 'train', seq, 'meta', f'{fid}.pkl'), 'rb') as file:
            meta = pickle.load(file, encoding='latin1')
        joints_gl = np.asarray(meta['handJoints3D'], np.float64)
        uvw = (joints_gl @ GL)[MANO_TO_SIMPLE] @ np.asarray(meta['camMat'], np.float64).T
        seg = cv2.imread(osp.join(ho3d_root, 'train', seq, 'seg', f'{fid}.jpg'))
        seg = cv2.resize(seg, (640, 480), interpolation=cv2.INTER_NEAREST)
        expected = _slow_occlusion(uvw[:, :2] / uvw[:, 2:], seg[:, :, 0] > 200)
        assert sample.hand_occlusion == pytest.approx(expected, abs=1e-6)
        points = np.loadtxt(osp.join(ho3d_root, 'models', meta['objName'], 'points.xyz'))
        obj_rot = cv2.Rodrigues(np.asarray(meta['objRot'], np.float64).reshape(3))[0]
        posed = points @ obj_rot.T + np.asarray(meta['objTrans']).reshape(3)
        distance = min(np.linalg.norm(posed - joint, axis=1).min() for joint in joints_gl)
        assert sample.hand_obj_distance == pytest.approx(distance, rel=1e-4, abs=1e-6)
