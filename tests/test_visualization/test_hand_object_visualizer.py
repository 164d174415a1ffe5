import itertools

import cv2
import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.models.mano import ManoLayer
from mmhandobj.registry import VISUALIZERS
from mmhandobj.structures import HandObjectDataSample, bbox21_from_points
from mmhandobj.visualization import (
    FINGER_COLORS,
    WRIST_COLOR,
    HandObjectVisualizer,
    find_mano_layer,
)

H, W = 480, 640
BACKGROUND = 90
K = np.array([[600.0, 0.0, 320.0], [0.0, 610.0, 240.0], [0.0, 0.0, 1.0]])
ROOT = np.array([0.05, 0.0, 0.4])
CROP_AFFINE = np.array([[0.8, 0.0, -60.0], [0.0, 0.8, -40.0]])
OBJ_ROT = cv2.Rodrigues(np.array([0.3, -0.2, 0.1]))[0]
OBJ_TRANS = np.array([0.07, 0.03, 0.5])
ONLY = dict(draw_skeleton=False, draw_mesh=False, draw_obj_box=False, draw_bbox=False)
_names = itertools.count()


@pytest.fixture(scope='module')
def mano():
    return ManoLayer(standin_seed=0, use_pca=False, center_idx=0, units='m')


def visualizer(**kwargs) -> HandObjectVisualizer:
    return HandObjectVisualizer(name=f'vis_test_{next(_names)}', **kwargs)


def project(points):
    """Independent pinhole projection with the test intrinsics."""
    points = np.asarray(points, np.float64)
    return np.stack([K[0, 0] * points[:, 0] / points[:, 2] + K[0, 2],
                     K[1, 1] * points[:, 1] / points[:, 2] + K[1, 2]], axis=1)


def to_crop(points, flip=False):
    points = np.array(points, np.float64)
    if flip:
        points[:, 0] = W - 1 - points[:, 0]
    return points @ CROP_AFFINE[:, :2].T + CROP_AFFINE[:, 2]


def make_sample(mano, flip=False, with_gt=True, with_pred=True):
    verts, joints = (x[0].numpy().astype(np.float64) for x in mano(torch.zeros(1, 48)))
    kps3d = bbox21_from_points(np.array([[-0.03, -0.04, -0.05], [0.03, 0.04, 0.05]]))
    gt = InstanceData()
    gt.hand_bboxes = torch.tensor([[20.0, 30.0, 120.0, 150.0]])
    gt.obj_bboxes = torch.tensor([[100.0, 60.0, 200.0, 170.0]])
    gt.obj_kps3d = torch.from_numpy(kps3d)[None]
    if with_gt:
        gt.hand_joints3d_cam = torch.from_numpy(joints + ROOT)[None].float()
        gt.hand_verts3d_cam = torch.from_numpy(verts + ROOT)[None].float()
        gt.root_joint = torch.from_numpy(ROOT)[None].float()
        gt.obj_pose = torch.from_numpy(np.concatenate([OBJ_ROT, OBJ_TRANS[:, None]], 1))[None]
    sample = HandObjectDataSample(metainfo=dict(
        ori_shape=(H, W), img_shape=(256, 256), flip=flip, crop_affine=CROP_AFFINE,
        ori_cam_intr=K, img_path='frame.png', sample_idx=0))
    sample.gt_instances = gt
    if with_pred:
        mirror = np.array([-1.0 if flip else 1.0, 1.0, 1.0])
        pred = InstanceData()
        pred.hand_joints3d = (joints * mirror)[None].astype(np.float32)
        pred.hand_verts3d = (verts * mirror)[None].astype(np.float32)
        pred.hand_joints2d_crop = to_crop(project(joints + ROOT), flip)[None].astype(np.float32)
        pred.hand_joints2d_img = project(joints + ROOT)[None].astype(np.float32)
        pred.hand_root = ROOT[None].astype(np.float32)
        pred.obj_rot = OBJ_ROT[None]
        pred.obj_trans = (OBJ_TRANS + [0.01, -0.01, 0.0])[None]
        sample.pred_instances = pred
    return sample


def blank():
    return np.full((H, W, 3), BACKGROUND, np.uint8)


def joint_colors():
    return [WRIST_COLOR] + [FINGER_COLORS[(j - 1) // 4] for j in range(1, 21)]


def check_joint_dots(panel, joints2d):
    """Each joint's centre pixel has its finger colour unless a later dot covers it."""
    colors = joint_colors()
    checked = 0
    for j, (u, v) in enumerate(joints2d):
        later = np.linalg.norm(joints2d[j + 1:] - joints2d[j], axis=1)
        if (later < 8).any():
            assert tuple(panel[int(round(v)), int(round(u))]) != (BACKGROUND,) * 3
            continue
        assert tuple(panel[int(round(v)), int(round(u))]) == colors[j], f'joint {j}'
        checked += 1
    assert checked >= 10


def box_edges(corners):
    """Independent edge list: corner pairs sharing exactly two coordinates."""
    return [(a, b) for a in range(8) for b in range(a + 1, 8)
            if np.sum(np.isclose(corners[a], corners[b])) == 2]


def closer_to(pixel, color):
    pixel = pixel.astype(float)
    return np.linalg.norm(pixel - color) < np.linalg.norm(pixel - BACKGROUND)


def test_registered_in_visualizers():
    assert VISUALIZERS.get('HandObjectVisualizer') is HandObjectVisualizer


def test_gt_skeleton_at_projected_joints(mano):
    sample = make_sample(mano, with_pred=False)
    vis = visualizer(**dict(ONLY, draw_skeleton=True))
    out = vis.add_datasample('s', blank(), sample, draw_pred=False)
    assert out.shape == (H, W, 3)
    check_joint_dots(out, project(sample.gt_instances.hand_joints3d_cam[0].numpy()))
    assert (out[:5, :5] == BACKGROUND).all()


@pytest.mark.parametrize('flip', [False, True])
def test_pred_skeleton_maps_crop_joints_back(mano, flip):
    sample = make_sample(mano, flip=flip)
    vis = visualizer(**dict(ONLY, draw_skeleton=True))
    out = vis.add_datasample('s', blank(), sample, draw_gt=False)
    assert out.shape == (H, W, 3)
    check_joint_dots(out, project(sample.gt_instances.hand_joints3d_cam[0].numpy()))


@pytest.mark.parametrize('flip', [False, True])
def test_object_box_edges_through_projected_corners(mano, flip):
    sample = make_sample(mano, flip=flip)
    vis = visualizer(**dict(ONLY, draw_obj_box=True))
    out = vis.add_datasample('s', blank(), sample)
    assert out.shape == (H, 2 * W, 3)
    corners = sample.gt_instances.obj_kps3d[0].numpy().astype(np.float64)[:8]
    edges = box_edges(corners)
    assert len(edges) == 12
    panels = [(out[:, :W], OBJ_TRANS, vis.colors['gt_obj']),
              (out[:, W:], OBJ_TRANS + [0.01, -0.01, 0.0], vis.colors['pred_obj'])]
    for panel, trans, color in panels:
        pixels = project(corners @ OBJ_ROT.T + trans)
        for a, b in edges:
            for t in (0.25, 0.5, 0.75):
                u, v = pixels[a] + t * (pixels[b] - pixels[a])
                assert closer_to(panel[int(round(v)), int(round(u))], color), (a, b, t)
        assert (panel[:5, :5] == BACKGROUND).all()


def test_mesh_blended_with_shaded_color(mano):
    sample = make_sample(mano, with_pred=False)
    vis = visualizer(mano_faces=mano, mesh_alpha=1.0, **dict(ONLY, draw_mesh=True))
    out = vis.add_datasample('s', blank(), sample, draw_pred=False)
    pixels = np.round(project(sample.gt_instances.hand_verts3d_cam[0].numpy())).astype(int)
    color = np.array(vis.colors['gt_mesh'], float)
    values = out[pixels[:, 1], pixels[:, 0]].astype(float)
    changed = (values != BACKGROUND).any(axis=1)
    assert changed.mean() > 0.95
    # Every mesh pixel is the base colour times a shade in [0.35, 1] (alpha 1).
    ratio = values[changed] / color
    assert np.all(ratio.max(axis=1) - ratio.min(axis=1) < 0.06)
    assert ratio.min() > 0.33 and ratio.max() < 1.01
    assert (out[:5, :5] == BACKGROUND).all()
    no_faces = visualizer(**dict(ONLY, draw_mesh=True))
    assert (no_faces.add_datasample('s', blank(), sample, draw_pred=False) == BACKGROUND).all()


def test_pred_mesh_placed_without_root(mano):
    sample = make_sample(mano)
    with_root = visualizer(mano_faces=mano.faces, **dict(ONLY, draw_mesh=True))
    expected = with_root.add_datasample('s', blank(), sample, draw_gt=False)
    # A given wrist wins over the solved one.
    sample.pred_instances.hand_root = (ROOT + [0.05, 0.0, 0.0])[None].astype(np.float32)
    assert (with_root.add_datasample('s', blank(), sample, draw_gt=False) == expected).all()
    # Without it, the solved wrist pred_instances.hand_root places the mesh.
    sample.pred_instances.hand_root = ROOT[None].astype(np.float32)
    del sample.gt_instances.root_joint
    fitted = visualizer(mano_faces=mano.faces, **dict(ONLY, draw_mesh=True))
    out = fitted.add_datasample('s', blank(), sample, draw_gt=False)
    assert (out != BACKGROUND).any()
    assert np.abs(out.astype(int) - expected).max() <= 1
    # No root in front of the camera was found (NaN): no mesh.
    sample.pred_instances.hand_root = np.full((1, 3), np.nan, np.float32)
    assert (fitted.add_datasample('s', blank(), sample, draw_gt=False) == BACKGROUND).all()


def test_nothing_drawn_without_pred_and_gt(mano):
    image = blank()
    sample = make_sample(mano, with_gt=False)
    vis = visualizer(mano_faces=mano)
    assert np.array_equal(vis.add_datasample('s', image, sample, draw_pred=False), image)
    with_gt = make_sample(mano)
    out = vis.add_datasample('s', image, with_gt, draw_gt=False, draw_pred=False)
    assert np.array_equal(out, image)
    assert np.array_equal(vis.add_datasample('s', image, None), image)


def test_out_file_written_rgb_to_bgr(mano, tmp_path):
    sample = make_sample(mano)
    vis = visualizer(mano_faces=mano)
    out_file = tmp_path / 'sub' / 'vis.png'
    drawn = vis.add_datasample('s', blank(), sample, out_file=str(out_file))
    assert drawn.shape == (H, 2 * W, 3)
    written = cv2.imread(str(out_file))
    assert written.shape == (H, 2 * W, 3)
    assert np.array_equal(written, drawn[..., ::-1])
    assert not np.array_equal(drawn[..., 0], drawn[..., 2])


def test_bad_inputs(mano):
    vis = visualizer()
    sample = make_sample(mano)
    with pytest.raises(ValueError, match='ori_shape'):
        vis.add_datasample('s', np.zeros((256, 256, 3), np.uint8), sample)
    with pytest.raises(ValueError, match='uint8'):
        vis.add_datasample('s', blank().astype(np.float32), sample)
    with pytest.raises(ValueError, match='mano_faces'):
        visualizer(mano_faces=np.zeros((4, 2), np.int64))
    del sample.ori_cam_intr
    with pytest.raises(KeyError, match='ori_cam_intr'):
        vis.add_datasample('s', blank(), sample)


def test_find_mano_layer(mano):
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Sequential(mano))
    assert find_mano_layer(model) is mano
    assert find_mano_layer(torch.nn.Linear(2, 2)) is None
