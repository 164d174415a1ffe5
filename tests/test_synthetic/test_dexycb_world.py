"""The DexYCB-layout world read back with plain yaml / np.load / cv2, geometry recomputed."""
import glob
import os

import cv2
import numpy as np
import yaml
from reference_geometry import mano_forward, project, ray_depth, rodrigues, to_simple

from mmhandobj.models.mano import load_mano_model

SUBJECTS = ['20200709-subject-01', '20200813-subject-02', '20200820-subject-03',
            '20200903-subject-04', '20200908-subject-05', '20200918-subject-06',
            '20200928-subject-07', '20201002-subject-08', '20201015-subject-09',
            '20201022-subject-10']
MANOPTH_TIPS = {'right': [745, 317, 444, 556, 673], 'left': [745, 317, 445, 556, 673]}


def _load_yaml(path):
    with open(path) as f:
        return yaml.load(f, Loader=yaml.FullLoader)


def _samples(root):
    """(subject index, sequence index, seq dir, meta, serial, frame) of every image."""
    out = []
    for s, subject in enumerate(SUBJECTS):
        seqs = sorted(os.listdir(os.path.join(root, subject)))
        assert len(seqs) == 5
        for i, seq in enumerate(seqs):
            seq_dir = os.path.join(root, subject, seq)
            meta = _load_yaml(os.path.join(seq_dir, 'meta.yml'))
            for serial in meta['serials']:
                for f in range(meta['num_frames']):
                    out.append((s, i, seq_dir, meta, serial, f))
    return out


def _intrinsics(root, serial):
    color = _load_yaml(os.path.join(root, 'calibration', 'intrinsics',
                                    f'{serial}_640x480.yml'))['color']
    return np.array([[color['fx'], 0, color['ppx']], [0, color['fy'], color['ppy']], [0, 0, 1]])


def _dilate(mask, px=2):
    return cv2.dilate(mask.astype(np.uint8), np.ones((2 * px + 1, 2 * px + 1), np.uint8)) > 0


def test_layout_meta_and_calibration(dexycb_root):
    root = dexycb_root
    assert sorted(d for d in os.listdir(root) if d.startswith('20')) == SUBJECTS
    samples = _samples(root)
    assert 50 <= len(samples) <= 80
    sides = set()
    for _, _, seq_dir, meta, serial, f in samples:
        assert all(isinstance(x, str) for x in meta['serials'])
        assert isinstance(meta['extrinsics'], str) and isinstance(meta['mano_calib'][0], str)
        assert 1 <= len(meta['ycb_ids']) <= 4
        assert 0 <= meta['ycb_grasp_ind'] < len(meta['ycb_ids'])
        sides.add(meta['mano_sides'][0])
        K = _intrinsics(root, serial)
        assert 600 <= K[0, 0] <= 620 and abs(K[0, 2] - 320) < 10
        mano = _load_yaml(os.path.join(root, 'calibration', f"mano_{meta['mano_calib'][0]}",
                                       'mano.yml'))
        assert len(mano['betas']) == 10
        extr = _load_yaml(os.path.join(root, 'calibration',
                                       f"extrinsics_{meta['extrinsics']}", 'extrinsics.yml'))
        assert extr['master'] == meta['serials'][0]
        assert len(extr['extrinsics'][serial]) == 12
        folder = os.path.join(seq_dir, serial)
        assert cv2.imread(os.path.join(folder, f'color_{f:06d}.jpg')).shape == (480, 640, 3)
        depth = cv2.imread(os.path.join(folder, f'aligned_depth_to_color_{f:06d}.png'),
                           cv2.IMREAD_UNCHANGED)
        assert depth.dtype == np.uint16 and depth.shape == (480, 640)
    assert sides == {'left', 'right'}
    for name in ('006_mustard_bottle', '061_foam_brick', '051_large_clamp'):
        assert os.path.isfile(os.path.join(root, 'models', name, 'textured_simple.obj'))


def test_labels_regenerate_and_project(dexycb_root):
    root = dexycb_root
    models = {side: load_mano_model(os.path.join(root, 'mano', f'MANO_{side.upper()}.pkl'))
              for side in ('right', 'left')}
    invalid = {'train': 0, 'val': 0, 'test': 0}
    checked = {'right': 0, 'left': 0}
    points = {}
    for s, i, seq_dir, meta, serial, f in _samples(root):
        split = 'train' if i % 5 != 4 else ('val' if s < 2 else 'test')
        labels = np.load(os.path.join(seq_dir, serial, f'labels_{f:06d}.npz'))
        assert labels['pose_m'].shape == (1, 51) and labels['pose_m'].dtype == np.float32
        assert labels['pose_y'].shape == (len(meta['ycb_ids']), 3, 4)
        seg = labels['seg']
        assert seg.dtype == np.uint8 and seg.shape == (480, 640)
        assert set(np.unique(seg)) <= {0, 255} | set(meta['ycb_ids'])
        K = _intrinsics(root, serial)
        grasp_cls = meta['ycb_ids'][meta['ycb_grasp_ind']]
        pose = labels['pose_y'][meta['ycb_grasp_ind']].astype(np.float64)
        if grasp_cls not in points:
            points[grasp_cls] = np.loadtxt(os.path.join(root, 'models',
                                                        _grasp_name(root, grasp_cls),
                                                        'points.xyz'))
        pts = points[grasp_cls]
        uv = np.round(project(pts @ pose[:, :3].T + pose[:, 3], K)).astype(int)
        assert _dilate((seg == grasp_cls) | (seg == 255))[uv[:, 1], uv[:, 0]].mean() > 0.99
        if np.all(labels['pose_m'] == 0):
            invalid[split] += 1
            assert np.all(labels['joint_3d'] == -1) and np.all(labels['joint_2d'] == -1)
            assert not (seg == 255).any()
            continue
        side = meta['mano_sides'][0]
        j3d = labels['joint_3d'][0].astype(np.float64)
        assert np.abs(project(j3d, K) - labels['joint_2d'][0]).max() < 0.5
        uv = np.round(labels['joint_2d'][0]).astype(int)
        on_hand = _dilate(seg == 255)[uv[:, 1], uv[:, 0]]
        # A joint off the hand mask must be hidden by something nearer than itself.
        depth = cv2.imread(os.path.join(seq_dir, serial, f'aligned_depth_to_color_{f:06d}.png'),
                           cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000
        hidden = depth[uv[:, 1], uv[:, 0]] < j3d[:, 2]
        assert (on_hand | hidden).all() and on_hand.mean() >= 0.4
        if checked[side] < 2:
            betas = np.array(_load_yaml(os.path.join(
                root, 'calibration', f"mano_{meta['mano_calib'][0]}", 'mano.yml'))['betas'])
            pm = labels['pose_m'][0].astype(np.float64)
            model = models[side]
            aa = np.concatenate([pm[:3], pm[3:48] @ model['hands_components']
                                 + model['hands_mean']])
            verts, joints = mano_forward(model, aa, betas, pm[48:], MANOPTH_TIPS[side])
            assert np.abs(to_simple(joints) - j3d).max() < 1e-5
            if checked[side] == 0:
                _check_depth(root, seq_dir, serial, f, meta, labels, verts, model, K)
            checked[side] += 1
    assert invalid == {'train': 1, 'val': 1, 'test': 1}
    assert checked == {'right': 2, 'left': 2}


def _grasp_name(root, cls):
    names = sorted(os.listdir(os.path.join(root, 'models')))
    return names[cls - 1]


def _read_obj(path):
    verts, faces = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0] == 'v':
                verts.append([float(x) for x in parts[1:4]])
            elif parts and parts[0] == 'f':
                faces.append([int(p.split('/')[0]) - 1 for p in parts[1:4]])
    return np.array(verts), np.array(faces)


def _check_depth(root, seq_dir, serial, f, meta, labels, verts, model, K):
    """Depth (uint16 mm) equals the ray-traced depth of hand + objects within 0.5 mm."""
    scene_v, scene_f = [verts], [model['f'].astype(np.int64)]
    names = sorted(os.listdir(os.path.join(root, 'models')))
    offset = len(verts)
    for k, cls in enumerate(meta['ycb_ids']):
        v, faces = _read_obj(os.path.join(root, 'models', names[cls - 1],
                                          'textured_simple.obj'))
        pose = labels['pose_y'][k].astype(np.float64)
        scene_v.append(v @ pose[:, :3].T + pose[:, 3])
        scene_f.append(faces + offset)
        offset += len(v)
    scene_v, scene_f = np.concatenate(scene_v), np.concatenate(scene_f)
    depth = cv2.imread(os.path.join(seq_dir, serial, f'aligned_depth_to_color_{f:06d}.png'),
                       cv2.IMREAD_UNCHANGED).astype(np.float64) / 1000
    inner = ~_dilate(labels['seg'] == 0, 3)
    ys, xs = np.nonzero(inner & (labels['seg'] == 255))
    for k in np.random.default_rng(0).choice(len(ys), size=3, replace=False):
        expected = ray_depth(scene_v, scene_f, K, xs[k], ys[k])
        assert abs(depth[ys[k], xs[k]] - expected) <= 0.0005 + 1e-6


def test_models_match_the_class_table(dexycb_root):
    names = sorted(os.listdir(os.path.join(dexycb_root, 'models')))
    assert len(names) == 21 and names[0] == '002_master_chef_can'
    assert names[20] == '061_foam_brick'
    for path in glob.glob(os.path.join(dexycb_root, 'models', '*', 'points.xyz'))[:3]:
        assert np.loadtxt(path).shape == (2620, 3)
    assert rodrigues(np.zeros((1, 3))).shape == (1, 3, 3)
