"""tools/analysis_tools/prior_baseline.py on a tiny synthetic world (run in-process)."""
import os
import os.path as osp
import re

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from repo_scripts import load_script

ROOT = osp.join(osp.dirname(__file__), '..', '..')
CONFIG = osp.join(ROOT, 'configs', 'hfl', 'hfl_r18_synthetic.py')


def _load_tool():
    return load_script('tools/analysis_tools/prior_baseline.py')


tool = _load_tool()


def _procrustes_error(pred: np.ndarray, gt: np.ndarray) -> float:
    """Mean joint error after the similarity that best maps ``pred`` onto ``gt`` (SVD)."""
    p, g = pred - pred.mean(0), gt - gt.mean(0)
    u, s, vt = np.linalg.svd(p.T @ g)
    rot = (u @ vt).T
    scale = s.sum() / (p ** 2).sum()
    return float(np.linalg.norm(scale * p @ rot.T - g, axis=1).mean())


@pytest.fixture(scope='module')
def options(tiny_model_options):
    """``--cfg-options``: the quick start on a 100-frame world (SM3 held out) and a tiny model."""
    opts = [f"{key}={str(value).replace(' ', '')}" for key, value in tiny_model_options.items()]
    for loader in ('train_dataloader', 'val_dataloader'):
        opts += [f'{loader}.dataset.num_frames=100', f'{loader}.dataset.val_sequences=[SM3]']
    return opts


@pytest.fixture(scope='module')
def world(tmp_path_factory, options):
    """Config and packed train/val samples; cwd is a temporary folder holding the world at the
    config's relative ``data/synthetic/ho3d``."""
    cwd = tmp_path_factory.mktemp('prior')
    old_cwd = os.getcwd()
    os.chdir(cwd)
    try:
        args = tool.parse_args([CONFIG, '--cfg-options', *options])
        cfg = Config.fromfile(CONFIG)
        cfg.merge_from_dict(args.cfg_options)
        init_default_scope('mmhandobj')
        train = tool._build_dataset(cfg, 'train_dataloader')
        val = tool._build_dataset(cfg, 'val_dataloader')
        yield (cfg, [train[i]['data_samples'] for i in range(len(train))],
               [val[i]['data_samples'] for i in range(len(val))])
    finally:
        os.chdir(old_cwd)


@pytest.fixture(scope='module')
def mano_forward(world):
    from mmhandobj.registry import MODELS
    return MODELS.build(world[0].model).hand_head.mano_forward


def test_prior_is_the_mean_of_the_training_labels(world, mano_forward, monkeypatch):
    _, train, _ = world
    monkeypatch.setattr(tool, 'MANO_CHUNK', 7)  # several MANO chunks, the last one partial
    assert len(train) % 7
    joints, verts, layouts, hand_layout = tool.estimate_prior(train, mano_forward)
    # slow loop: one MANO call per sample, one normalisation per sample
    sum_joints, sum_verts, sum_hand = np.zeros((21, 3)), np.zeros((778, 3)), np.zeros((21, 2))
    per_object = {}
    for sample in train:
        gt = sample.gt_instances
        with torch.no_grad():
            v, j = mano_forward(gt.mano_pose.float(), gt.mano_shape.float())
        sum_joints += j[0].double().numpy()
        sum_verts += v[0].double().numpy()
        x1, y1, x2, y2 = gt.obj_bboxes[0].double().numpy()
        kps = gt.obj_kps2d_crop[0].double().numpy()
        norm = np.stack([(kps[:, 0] - x1) / (x2 - x1), (kps[:, 1] - y1) / (y2 - y1)], axis=1)
        per_object.setdefault(sample.metainfo['obj_name'], []).append(norm)
        hx1, hy1, hx2, hy2 = gt.hand_bboxes[0].double().numpy()
        uv = gt.hand_joints2d_crop[0].double().numpy()
        sum_hand += np.stack([(uv[:, 0] - hx1) / (hx2 - hx1), (uv[:, 1] - hy1) / (hy2 - hy1)], 1)
    np.testing.assert_allclose(joints, sum_joints / len(train), atol=1e-6)
    np.testing.assert_allclose(verts, sum_verts / len(train), atol=1e-6)
    assert sorted(layouts) == sorted(per_object)
    for name, norms in per_object.items():
        np.testing.assert_allclose(layouts[name], np.mean(norms, axis=0), atol=1e-9)
    assert np.allclose(joints[0], 0.0)  # wrist-centred
    np.testing.assert_allclose(hand_layout, sum_hand / len(train), atol=1e-9)


def test_exact_layout_recovers_the_object_pose(world):
    """Placing a frame's own keypoint layout in its box gives back its pose (PnP chain)."""
    _, _, val = world
    for sample in val:
        gt = sample.gt_instances
        box = gt.obj_bboxes[0].double().numpy()
        layout = (gt.obj_kps2d_crop[0].double().numpy() - box[:2]) / (box[2:] - box[:2])
        pred = tool.prior_prediction(sample, np.zeros((21, 3)), np.zeros((778, 3)), layout,
                                     np.full((21, 2), 0.5))
        pose = gt.obj_pose[0].double().numpy()
        pts = gt.obj_kps3d[0].double().numpy()
        moved = pts @ pred.obj_rot[0].T.astype(np.float64) + pred.obj_trans[0]
        assert np.linalg.norm(moved - (pts @ pose[:, :3].T + pose[:, 3]), axis=1).max() < 2e-3


def test_scores_match_an_independent_computation(world, mano_forward, options, capsys):
    cfg, train, val = world
    metrics = tool.score_prior(cfg)
    joints, _, layouts, hand_layout = tool.estimate_prior(train, mano_forward)
    expected = np.mean([
        _procrustes_error(joints, (s.gt_instances.hand_joints3d_cam[0]
                                   - s.gt_instances.root_joint[0]).double().numpy())
        for s in val])
    assert metrics['ho3d/xyz_procrustes_al_mean3d'] == pytest.approx(100 * expected, rel=1e-4)
    # 2D: the crop is a similarity of the image, so image-pixel errors are crop-pixel errors
    # divided by its scale
    errors = []
    for s in val:
        box = s.gt_instances.hand_bboxes[0].double().numpy()
        prior_crop = box[:2] + hand_layout * (box[2:] - box[:2])
        scale = np.sqrt(abs(np.linalg.det(np.asarray(s.metainfo['crop_affine'])[:, :2])))
        gt_crop = s.gt_instances.hand_joints2d_crop[0].double().numpy()
        errors.append(np.linalg.norm(prior_crop - gt_crop, axis=1) / scale)
    assert metrics['ho3d/joints2d_EPE_px'] == pytest.approx(np.mean(errors), rel=1e-3)
    assert 0.0 <= metrics['obj/ADD-0.1D'] <= 100.0
    assert np.isfinite(metrics['obj/ADD-S_mm'])
    tool.main([CONFIG, '--cfg-options', *options])
    printed = dict(re.findall(r'^(\S+/\S+) +(-?[0-9.]+)$', capsys.readouterr().out, re.M))
    assert set(printed) == set(metrics)
    for key, value in metrics.items():
        assert float(printed[key]) == pytest.approx(value, abs=1e-4)
