import json
import os
import os.path as osp
import pickle
import re
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest
import yaml

from mmhandobj.datasets.annotation_file import decode_mask, load_annotation_file
from mmhandobj.datasets.converters import convert_dexycb, convert_dexycb_hfl_json, convert_ho3d

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run_tool(name, args, capsys):
    argv = sys.argv
    sys.argv = [name] + args
    try:
        runpy.run_path(osp.join(REPO, 'tools', 'dataset_converters', name), run_name='__main__')
    finally:
        sys.argv = argv
    return capsys.readouterr().out


def _lines(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip()]


def _copy_ho3d(root, tmp_path):
    copy = str(tmp_path / 'ho3d')
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns('depth', 'annotations'))
    return copy


def _edit_meta(root, split, key, edit):
    seq, fid = key.split('/')
    path = osp.join(root, split, seq, 'meta', f'{fid}.pkl')
    with open(path, 'rb') as f:
        meta = pickle.load(f, encoding='latin1')
    edit(meta)
    with open(path, 'wb') as f:
        pickle.dump(meta, f, protocol=2)
    return path


def test_ho3d_tool_writes_both_splits(ho3d_raw_root, tmp_path, capsys):
    out = _run_tool('ho3d.py', [ho3d_raw_root, '--out-dir', str(tmp_path)], capsys)
    assert 'train' in out and 'evaluation' in out
    for split in ('train', 'evaluation'):
        columns, meta = load_annotation_file(str(tmp_path / f'ho3d_v2_{split}.npz'))
        keys = np.char.decode(columns['frame_key']).tolist()
        assert keys == _lines(osp.join(ho3d_raw_root, f'{split}.txt'))
        assert meta['split'] == split and meta['dataset'] == 'ho3d'
        assert columns['has_hand'].all() == (split == 'train')
        assert columns['has_obj'].all()


def test_ho3d_bad_inputs_are_named(ho3d_raw_root, tmp_path):
    root = _copy_ho3d(ho3d_raw_root, tmp_path)
    out = str(tmp_path / 'out.npz')
    with pytest.raises(ValueError, match="unknown HO3D split 'test'"):
        convert_ho3d(root, out, 'test')
    key = _lines(osp.join(root, 'train.txt'))[1]
    path = _edit_meta(root, 'train', key, lambda m: m.pop('handBeta'))
    with pytest.raises(KeyError, match=f"{path}: missing meta key 'handBeta'"):
        convert_ho3d(root, out, 'train')
    _edit_meta(root, 'train', key, lambda m: m.update(handBeta=None))
    with pytest.raises(ValueError, match=f"{path}: meta key 'handBeta' is None"):
        convert_ho3d(root, out, 'train')
    _edit_meta(root, 'train', key, lambda m: m.update(handBeta=np.full(10, np.nan)))
    with pytest.raises(ValueError, match="'handBeta' contains NaN"):
        convert_ho3d(root, out, 'train')
    eval_key = _lines(osp.join(root, 'evaluation.txt'))[0]
    path = _edit_meta(root, 'evaluation', eval_key,
                      lambda m: m.update(handBoundingBox=[10.0, 10.0, 5.0, 20.0]))
    with pytest.raises(ValueError, match=f'{path}: degenerate handBoundingBox'):
        convert_ho3d(root, out, 'evaluation')


def test_ho3d_missing_seg_and_image(ho3d_raw_root, tmp_path):
    root = _copy_ho3d(ho3d_raw_root, tmp_path)
    out = str(tmp_path / 'out.npz')
    seq, fid = _lines(osp.join(root, 'train.txt'))[0].split('/')
    os.remove(osp.join(root, 'train', seq, 'seg', f'{fid}.jpg'))
    with pytest.raises(FileNotFoundError, match='--allow-missing-seg'):
        convert_ho3d(root, out, 'train')
    counts = convert_ho3d(root, out, 'train', allow_missing_seg=True)
    assert counts['missing_seg'] == 1 and counts['masks'] == counts['frames'] - 1
    rgb = [f for f in os.listdir(osp.join(root, 'train', seq, 'rgb')) if f.startswith(fid)][0]
    os.remove(osp.join(root, 'train', seq, 'rgb', rgb))
    with pytest.raises(FileNotFoundError, match=f'HO3D image not found: .*{seq}/rgb/{fid}'):
        convert_ho3d(root, out, 'train', allow_missing_seg=True)


def test_ho3d_hfl_json_matches_raw_conversion(ho3d_raw_root, tmp_path, capsys):
    gl = np.diag([1.0, -1.0, -1.0])
    simple = [0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20]
    entries = []
    for key in _lines(osp.join(ho3d_raw_root, 'train.txt')):
        seq, fid = key.split('/')
        with open(osp.join(ho3d_raw_root, 'train', seq, 'meta', f'{fid}.pkl'), 'rb') as f:
            meta = pickle.load(f, encoding='latin1')
        entries.append(dict(
            seqName_id=key, K=np.asarray(meta['camMat']).tolist(),
            joints_3d=(np.asarray(meta['handJoints3D'], np.float64) @ gl)[simple].tolist(),
            mano_params=np.concatenate([np.ravel(meta['handPose']),
                                        np.ravel(meta['handBeta'])]).tolist()))
        seg = cv2.imread(osp.join(ho3d_raw_root, 'train', seq, 'seg', f'{fid}.jpg'))
        seg = cv2.resize(seg, (640, 480), interpolation=cv2.INTER_NEAREST)
        label_dir = tmp_path / 'process' / 'train_segLabel' / seq
        label_dir.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(label_dir / f'{fid}.png'), (seg[:, :, 0] > 200).astype(np.uint8) * 255)
    json_file = str(tmp_path / 'ho3d_train_data.json')
    with open(json_file, 'w') as f:
        json.dump(entries, f)
    _run_tool('ho3d.py', [ho3d_raw_root, '--out-dir', str(tmp_path / 'raw'), '--splits',
                          'train'], capsys)
    _run_tool('ho3d.py', [ho3d_raw_root, '--out-dir', str(tmp_path / 'hfl'), '--splits',
                          'train', '--hfl-json', json_file, '--seg-label-root',
                          str(tmp_path / 'process')], capsys)
    raw, _ = load_annotation_file(str(tmp_path / 'raw' / 'ho3d_v2_train.npz'))
    hfl, _ = load_annotation_file(str(tmp_path / 'hfl' / 'ho3d_v2_train.npz'))
    for key in ('img_path', 'frame_key', 'has_hand', 'obj_index', 'mask_rle', 'mask_offsets'):
        np.testing.assert_array_equal(hfl[key], raw[key])
    for key in ('cam_intr', 'joints2d', 'joints3d', 'mano_pose', 'mano_shape', 'obj_pose'):
        np.testing.assert_allclose(hfl[key], raw[key], atol=1e-5)


def test_dexycb_tool_and_strict_mode(dexycb_raw_root, tmp_path, capsys):
    out = _run_tool('dexycb.py', [dexycb_raw_root, '--mano-root',
                                  osp.join(dexycb_raw_root, 'mano'), '--out-dir',
                                  str(tmp_path), '--splits', 'train', 'test'], capsys)
    assert 's0/train' in out and 's0/test' in out
    columns, meta = load_annotation_file(str(tmp_path / 'dexycb_s0_test.npz'))
    assert meta['setup'] == 's0' and meta['mask'] == 'modal'
    assert (~columns['has_hand']).sum() >= 1  # invalid-hand frames are kept in the file
    with pytest.raises(ValueError, match='expected 100'):
        convert_dexycb(dexycb_raw_root, str(tmp_path / 'x.npz'),
                       osp.join(dexycb_raw_root, 'mano'), 's0', 'test', strict=True)
    with pytest.raises(FileNotFoundError, match='MANO_RIGHT.pkl'):
        convert_dexycb(dexycb_raw_root, str(tmp_path / 'x.npz'), str(tmp_path), 's0', 'test')


def test_dexycb_hfl_json_matches_raw_conversion(dexycb_raw_root, tmp_path):
    mano_root = osp.join(dexycb_raw_root, 'mano')
    raw_file = str(tmp_path / 'raw.npz')
    convert_dexycb(dexycb_raw_root, raw_file, mano_root, 's0', 'test')
    raw, _ = load_annotation_file(raw_file)
    # an HFL-style JSON: toolkit sample merged with the labels (minus seg), plus an amodal mask
    data = {}
    for i, key in enumerate(np.char.decode(raw['frame_key']).tolist()):
        subject, seq, serial, frame = key.split('/')
        with np.load(osp.join(dexycb_raw_root, subject, seq, serial,
                              f'labels_{frame}.npz')) as npz:
            labels = {k: npz[k].tolist() for k in npz.files if k != 'seg'}
            seg = npz['seg']
        with open(osp.join(dexycb_raw_root, subject, seq, 'meta.yml')) as f:
            meta = yaml.safe_load(f)
        with open(osp.join(dexycb_raw_root, 'calibration', f'mano_{meta["mano_calib"][0]}',
                           'mano.yml')) as f:
            calib = yaml.safe_load(f)
        cam = raw['cam_intr'][i]
        seg_file = f'object_render/{subject}/{seq}/{serial}/grasp_object_seg_{frame}.png'
        os.makedirs(osp.dirname(osp.join(tmp_path, seg_file)), exist_ok=True)
        grasp_cls = meta['ycb_ids'][meta['ycb_grasp_ind']]
        cv2.imwrite(osp.join(tmp_path, seg_file), (seg == grasp_cls).astype(np.uint8) * 255)
        data[f'id_{i}'] = dict(
            labels, color_file=f'{subject}/{seq}/{serial}/color_{frame}.jpg',
            intrinsics=dict(fx=float(cam[0, 0]), fy=float(cam[1, 1]), ppx=float(cam[0, 2]),
                            ppy=float(cam[1, 2])),
            ycb_ids=meta['ycb_ids'], ycb_grasp_ind=meta['ycb_grasp_ind'],
            mano_side=meta['mano_sides'][0], mano_betas=calib['betas'],
            object_seg_file=seg_file)
    json_file = str(tmp_path / 'dex_ycb_s0_test_data.json')
    with open(json_file, 'w') as f:
        json.dump(data, f)
    hfl_file = str(tmp_path / 'hfl.npz')
    convert_dexycb_hfl_json(json_file, str(tmp_path), hfl_file, mano_root, 's0', 'test')
    hfl, meta = load_annotation_file(hfl_file)
    assert meta['mask'] == 'amodal'
    for key in ('img_path', 'frame_key', 'sequence', 'is_left', 'has_hand', 'has_obj',
                'obj_index'):
        np.testing.assert_array_equal(hfl[key], raw[key])
    for key in ('cam_intr', 'joints2d', 'joints3d', 'mano_pose', 'mano_shape', 'obj_pose'):
        np.testing.assert_allclose(hfl[key], raw[key], atol=1e-5, equal_nan=True)
    for i in range(len(raw['img_path'])):
        masks = [decode_mask(c['mask_rle'][c['mask_offsets'][i]:c['mask_offsets'][i + 1]]
                             .tobytes(), 480, 640) for c in (raw, hfl)]
        np.testing.assert_array_equal(masks[0], masks[1])


class _Exploit:
    """Unpickling this runs a shell command (what a crafted dataset file could do)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_ho3d_crafted_meta_pickle_does_not_run(tmp_path):
    root = tmp_path / 'ho3d'
    meta_dir = root / 'evaluation' / 'SM1' / 'meta'
    meta_dir.mkdir(parents=True)
    (root / 'evaluation.txt').write_text('SM1/0000\n')
    marker = tmp_path / 'executed'
    with open(meta_dir / '0000.pkl', 'wb') as f:
        pickle.dump({'camMat': _Exploit(marker)}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r'HO3D meta file .*0000\.pkl: refusing to '
                       r'load global (os|posix)\.system'):
        convert_ho3d(str(root), str(tmp_path / 'out.npz'), 'evaluation')
    assert not marker.exists()


def _copy_dexycb(root, tmp_path):
    copy = str(tmp_path / 'dexycb')
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns('aligned_depth_*', 'annotations'))
    return copy


def _label_path(root, frame_key):
    subject, seq, serial, frame = frame_key.split('/')
    return osp.join(root, subject, seq, serial, f'labels_{frame}.npz')


def test_dexycb_hand_presence_follows_joint_3d_alone(dexycb_raw_root, tmp_path):
    root = _copy_dexycb(dexycb_raw_root, tmp_path)
    mano_root = osp.join(root, 'mano')
    out = str(tmp_path / 'train.npz')
    convert_dexycb(root, out, mano_root, 's0', 'train')
    columns, _ = load_annotation_file(out)
    hands = np.flatnonzero(columns['has_hand'])
    no_pose, no_2d = (np.char.decode(columns['frame_key'][hands[:2]])).tolist()
    for key, field, value in ((no_pose, 'pose_m', 0.0), (no_2d, 'joint_2d', -1.0)):
        path = _label_path(root, key)
        with np.load(path) as npz:
            labels = {k: npz[k] for k in npz.files}
        labels[field] = np.full_like(labels[field], value)
        np.savez(path, **labels)
    counts = convert_dexycb(root, out, mano_root, 's0', 'train')
    edited, _ = load_annotation_file(out)
    assert (edited['has_hand'] == columns['has_hand']).all()  # joint_3d decides, as the toolkit
    assert counts['with_hand'] == len(hands) and counts['with_hand_hfl'] == len(hands) - 2
    a, b = hands[:2]
    assert np.isnan(edited['mano_pose'][a]).all()
    cam, joints = edited['cam_intr'][b].astype(np.float64), edited['joints3d'][b]
    projected = joints @ cam.T
    np.testing.assert_allclose(edited['joints2d'][b], projected[:, :2] / projected[:, 2:],
                               atol=1e-3)
    from mmhandobj.datasets import DexYCBDataset
    train = DexYCBDataset(data_root=root, split='train', ann_file=out, obj_model_root='models')
    assert a not in train._frame_ids  # no MANO fit: left out of training


def test_dexycb_truncated_labels_and_unsafe_yaml_name_the_file(dexycb_raw_root, tmp_path):
    root = _copy_dexycb(dexycb_raw_root, tmp_path)
    mano_root = osp.join(root, 'mano')
    out = str(tmp_path / 'test.npz')
    convert_dexycb(root, out, mano_root, 's0', 'test')
    key = np.char.decode(load_annotation_file(out)[0]['frame_key'][0]).tolist()
    path = _label_path(root, key)
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(ValueError, match=rf'{re.escape(path)}: truncated or corrupt DexYCB '
                       'labels file'):
        convert_dexycb(root, out, mano_root, 's0', 'test')
    meta_path = osp.join(root, *key.split('/')[:2], 'meta.yml')
    with open(meta_path, 'a') as f:
        f.write('extra: !!python/name:os.system\n')
    with pytest.raises(ValueError, match=rf'{re.escape(meta_path)}: not a readable YAML file'):
        convert_dexycb(root, out, mano_root, 's0', 'test')
