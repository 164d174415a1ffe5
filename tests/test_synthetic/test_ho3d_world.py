"""The HO3D-layout world read back with plain pickle / cv2 / json, geometry recomputed here."""
import json
import os
import pickle

import cv2
import numpy as np
import pytest
from reference_geometry import mano_forward, project, ray_depth, rodrigues

from mmhandobj.models.mano import load_mano_model

C = np.diag([1.0, -1.0, -1.0])
SCALE = 0.00012498664727900177
HO3D_TIPS = [744, 333, 444, 555, 672]
TRAIN_KEYS = {'handPose', 'handTrans', 'handBeta', 'handJoints3D', 'objRot', 'objTrans',
              'objName', 'objLabel', 'objCorners3DRest', 'objCorners3D', 'camMat'}
V3_KEYS = {'handVertContact', 'handVertDist', 'handVertIntersec', 'handVertObjSurfProj',
           'camIDList'}
EVAL_KEYS = {'handJoints3D', 'handBoundingBox', 'objRot', 'objTrans', 'objName', 'objLabel',
             'objCorners3D', 'objCorners3DRest', 'camMat'}
SEQ_OBJECT = {'SM': '006_mustard_bottle', 'ABF': '021_bleach_cleanser',
              'GPMF': '010_potted_meat_can', 'MPM': '010_potted_meat_can'}


def _lines(root, split):
    with open(os.path.join(root, f'{split}.txt')) as f:
        return [line.strip().split('/') for line in f if line.strip()]


def _meta(root, split, seq, fid):
    with open(os.path.join(root, split, seq, 'meta', f'{fid}.pkl'), 'rb') as f:
        return pickle.load(f)


def _read_obj(path):
    verts, faces = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == 'v':
                verts.append([float(x) for x in parts[1:4]])
            elif parts and parts[0] == 'f':
                corners = [p.split('/') for p in parts[1:4]]
                assert all(c[0] == c[2] for c in corners)
                faces.append([int(c[0]) - 1 for c in corners])
    return np.array(verts), np.array(faces)


def _seg(root, seq, fid):
    seg = cv2.imread(os.path.join(root, 'train', seq, 'seg', f'{fid}.jpg'))[:, :, ::-1]
    assert seg.shape == (240, 320, 3)
    seg = cv2.resize(seg, (640, 480), interpolation=cv2.INTER_NEAREST)
    return seg[:, :, 0] > 200, seg[:, :, 2] > 200


def _dilate(mask, px=3):
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def test_layout_txt_and_unannotated_frames(ho3d_v2_root):
    root = ho3d_v2_root
    assert os.path.isfile(os.path.join(root, '.complete'))
    train, evaluation = _lines(root, 'train'), _lines(root, 'evaluation')
    assert len(train) + len(evaluation) == 10
    assert len({seq for seq, _ in train}) >= 3
    for split, lines, keys in (('train', train, TRAIN_KEYS), ('evaluation', evaluation,
                                                             EVAL_KEYS)):
        for seq in {s for s, _ in lines}:
            fids = sorted(p[:-4] for p in os.listdir(os.path.join(root, split, seq, 'meta')))
            listed = [fid for s, fid in lines if s == seq]
            unlisted = sorted(set(fids) - set(listed))
            assert len(unlisted) == 1 and len(fids) == len(listed) + 1
            meta = _meta(root, split, seq, unlisted[0])
            assert set(meta) == keys and all(v is None for v in meta.values())
            for fid in fids:
                rgb = cv2.imread(os.path.join(root, split, seq, 'rgb', f'{fid}.png'))
                assert rgb.shape == (480, 640, 3)
            for fid in listed:
                meta = _meta(root, split, seq, fid)
                assert set(meta) == keys
                prefix = seq.rstrip('0123456789')
                assert meta['objName'] == SEQ_OBJECT[prefix]
                assert meta['objRot'].shape == (3, 1) and meta['objTrans'].shape == (3,)
                K = meta['camMat']
                assert 600 <= K[0, 0] <= 620 and abs(K[0, 2] - 320) < 10
                assert abs(K[1, 2] - 240) < 10
                if split == 'train':
                    assert meta['handPose'].dtype == np.float32
                    assert meta['handPose'].shape == (48,) and meta['handBeta'].shape == (10,)
                    assert meta['handJoints3D'].shape == (21, 3)
                else:
                    assert meta['handJoints3D'].shape == (3,)
                    assert len(meta['handBoundingBox']) == 4
    for name in set(SEQ_OBJECT.values()):
        pts = np.loadtxt(os.path.join(root, 'models', name, 'points.xyz'))
        assert pts.shape[1] == 3 and 2600 <= len(pts) <= 2650


def test_mano_parameters_regenerate_the_joints(ho3d_v2_root):
    root = ho3d_v2_root
    model = load_mano_model(os.path.join(root, 'mano', 'MANO_RIGHT.pkl'))
    for seq, fid in _lines(root, 'train')[:3]:
        meta = _meta(root, 'train', seq, fid)
        pose, beta, trans = (meta[k].astype(np.float64) for k in
                             ('handPose', 'handBeta', 'handTrans'))
        _, joints = mano_forward(model, pose, beta, trans, HO3D_TIPS)
        assert np.abs(joints - meta['handJoints3D']).max() < 1e-5
        v_shaped = model['v_template'] + model['shapedirs'] @ beta
        j0 = model['J_regressor'][0] @ v_shaped
        assert np.abs(meta['handJoints3D'][0] - (j0 + trans)).max() < 1e-5


def test_projections_land_on_the_masks_and_corners_follow_the_pose(ho3d_v2_root):
    root = ho3d_v2_root
    visible = []
    for seq, fid in _lines(root, 'train'):
        meta = _meta(root, 'train', seq, fid)
        K = meta['camMat'].astype(np.float64)
        hand, obj = _seg(root, seq, fid)
        assert hand.sum() > 500 and obj.sum() > 300
        uv = np.round(project(meta['handJoints3D'] @ C, K)).astype(int)
        assert (uv >= 0).all() and (uv[:, 0] < 640).all() and (uv[:, 1] < 480).all()
        on_hand = _dilate(hand)[uv[:, 1], uv[:, 0]]
        # A joint off the hand mask must be hidden by something nearer than itself.
        raw = cv2.imread(os.path.join(root, 'train', seq, 'depth', f'{fid}.png')).astype(int)
        depth = (raw[:, :, 2] + 256 * raw[:, :, 1]) * SCALE
        hidden = depth[uv[:, 1], uv[:, 0]] < -meta['handJoints3D'][:, 2]
        # and the hand stays mostly in view (end-on grasps can hide up to ~70 % of one frame)
        assert (on_hand | hidden).all() and on_hand.mean() >= 0.25
        visible.append(on_hand.mean())
        R = rodrigues(meta['objRot'].reshape(1, 3))[0]
        t = meta['objTrans'].astype(np.float64)
        pts = np.loadtxt(os.path.join(root, 'models', meta['objName'], 'points.xyz'))
        uv = np.round(project((pts @ R.T + t) @ C, K)).astype(int)
        # The seg is a half-resolution jpg: slivers thinner than 2 px may vanish.
        assert _dilate(hand | obj)[uv[:, 1], uv[:, 0]].mean() > 0.98
        expected = meta['objCorners3DRest'] @ R.T + t
        assert np.abs(meta['objCorners3D'] - expected).max() < 1e-6
        rest = meta['objCorners3DRest']
        assert np.allclose(rest.min(0), pts.min(0), atol=1e-5)
        assert np.allclose(rest.max(0), pts.max(0), atol=1e-5)
    assert np.mean(visible) >= 0.6


def test_depth_decodes_to_the_ray_traced_depth(ho3d_v2_root):
    root = ho3d_v2_root
    model = load_mano_model(os.path.join(root, 'mano', 'MANO_RIGHT.pkl'))
    seq, fid = _lines(root, 'train')[0]
    meta = _meta(root, 'train', seq, fid)
    verts, _ = mano_forward(model, meta['handPose'].astype(np.float64),
                            meta['handBeta'].astype(np.float64),
                            meta['handTrans'].astype(np.float64), HO3D_TIPS)
    obj_v, obj_f = _read_obj(os.path.join(root, 'models', meta['objName'],
                                          'textured_simple.obj'))
    R = rodrigues(meta['objRot'].reshape(1, 3))[0]
    obj_v = obj_v @ R.T + meta['objTrans']
    scene_v = np.concatenate([verts, obj_v]) @ C
    scene_f = np.concatenate([model['f'].astype(np.int64), obj_f + len(verts)])
    raw = cv2.imread(os.path.join(root, 'train', seq, 'depth', f'{fid}.png')).astype(np.int32)
    depth = (raw[:, :, 2] + 256 * raw[:, :, 1]) * SCALE
    hand, obj = _seg(root, seq, fid)
    rng = np.random.default_rng(0)
    inner = ~_dilate(~(hand | obj), 4)
    ys, xs = np.nonzero(inner)
    checked = 0
    for k in rng.choice(len(ys), size=4, replace=False):
        expected = ray_depth(scene_v, scene_f, meta['camMat'].astype(np.float64), xs[k], ys[k])
        assert np.isfinite(expected)
        assert abs(depth[ys[k], xs[k]] - expected) <= SCALE / 2 + 1e-6
        checked += 1
    assert checked == 4
    assert depth[~_dilate(hand | obj, 2)].min() > 0.9


def test_evaluation_split_and_released_ground_truth(ho3d_v2_root):
    root = ho3d_v2_root
    lines = _lines(root, 'evaluation')
    with open(os.path.join(root, 'evaluation_xyz.json')) as f:
        xyz = np.array(json.load(f))
    with open(os.path.join(root, 'evaluation_verts.json')) as f:
        verts = np.array(json.load(f))
    assert xyz.shape == (len(lines), 21, 3) and verts.shape == (len(lines), 778, 3)
    assert np.abs(xyz[:, 16:] - verts[:, HO3D_TIPS]).max() < 1e-6
    for (seq, fid), joints, vs in zip(lines, xyz, verts):
        meta = _meta(root, 'evaluation', seq, fid)
        assert np.abs(meta['handJoints3D'] - joints[0]).max() < 1e-6
        assert (joints[:, 2] < 0).all()
        uv = project(vs @ C, meta['camMat'].astype(np.float64))
        x1, y1, x2, y2 = meta['handBoundingBox']
        assert abs(uv[:, 0].min() - x1) < 1 and abs(uv[:, 1].max() - y2) < 1
        assert x2 - x1 > 40 and y2 - y1 > 40


def test_v3_jpg_float64_and_extra_keys(ho3d_v3_root):
    root = ho3d_v3_root
    seq, fid = _lines(root, 'train')[0]
    assert os.path.isfile(os.path.join(root, 'train', seq, 'rgb', f'{fid}.jpg'))
    meta = _meta(root, 'train', seq, fid)
    assert set(meta) == TRAIN_KEYS | V3_KEYS
    assert meta['handPose'].dtype == np.float64
    assert meta['handVertContact'].shape == (778,) and meta['handVertContact'].dtype == bool
    assert meta['handVertObjSurfProj'].shape == (778, 3)
    np.testing.assert_array_equal(meta['handVertContact'], meta['handVertDist'] < 0.004)
    # The surface projections lie on the object surface (model frame extents).
    R = rodrigues(meta['objRot'].reshape(1, 3))[0]
    local = (meta['handVertObjSurfProj'] - meta['objTrans']) @ R
    pts = np.loadtxt(os.path.join(root, 'models', meta['objName'], 'points.xyz'))
    assert (local >= pts.min(0) - 1e-3).all() and (local <= pts.max(0) + 1e-3).all()
    model = load_mano_model(os.path.join(root, 'mano', 'MANO_RIGHT.pkl'))
    v, _ = mano_forward(model, meta['handPose'], meta['handBeta'], meta['handTrans'],
                        HO3D_TIPS)
    dist = np.linalg.norm(v - meta['handVertObjSurfProj'], axis=1)
    assert np.abs(dist - meta['handVertDist']).max() < 1e-6


@pytest.mark.parametrize('bad', [dict(fmt='ho3d', num_frames=3), dict(fmt='bop', num_frames=9)])
def test_bad_arguments_are_refused(tmp_path, bad):
    from mmhandobj.synthetic import make_synthetic_world
    with pytest.raises(ValueError):
        make_synthetic_world(out_dir=str(tmp_path / 'w'), **bad)
    assert not os.path.exists(tmp_path / 'w')
