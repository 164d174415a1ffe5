"""Convert the raw DexYCB layout (or HFL-style JSONs) to mmhandobj annotation files.

Splits follow dex-ycb-toolkit ``dex_ycb.py`` exactly (subjects, cameras and the sequence rule on
each subject's sorted sequence list; sample order subject -> sequence -> camera -> frame), except
that the "exactly 100 sequences per subject" assert is relaxed so small or synthetic copies work.

Per frame, from ``labels_%06d.npz`` and ``meta.yml``:
    * hand: ``joint_3d``/``joint_2d`` (OpenCV, simple order, the real side, not mirrored);
      ``pose_m`` (PCA) -> ``mano_pose = [pose_m[0:3], pose_m[3:48] @ hands_components_side]``,
      i.e. axis-angle *relative to the side's mean pose*; the file records
      ``mano_pose_offset = hands_mean_right``, so the pipeline forms the flat-hand-mean pose as
      ``mirror_if_left(mano_pose)[3:] + hands_mean_right`` after mirroring, exactly as the
      HFL-Net reference (``docs/reference_parity.md`` R24). A frame has a hand when
      ``joint_3d`` is not all -1, as in the toolkit's HPE evaluator (all frames are kept; the
      dataset filters). The HFL-Net / HandOccNet frame lists also need ``joint_2d`` (not all
      -1) and ``pose_m`` (not all 0): a hand frame without ``joint_2d`` gets the projection of
      ``joint_3d`` (which is how DexYCB defines ``joint_2d``), one without ``pose_m`` gets a
      NaN ``mano_pose`` (the dataset leaves it out of training). Both counts are returned
      (``with_hand``, ``with_hand_hfl``); on DexYCB as released they are equal.
    * object: the grasped one, ``pose_y[ycb_grasp_ind]`` (model -> camera, OpenCV); class
      ``ycb_ids[ycb_grasp_ind]``.
    * mask: ``seg == grasped class id``, the *modal* (visible) mask. The HFL-Net reference used
      amodal re-renders (``object_render/``) that are not part of DexYCB; when converting
      HFL-style JSONs those files are used.
"""
import json
import os
import os.path as osp
import zipfile
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np
import yaml
from mmengine.logging import print_log

from mmhandobj.models.mano import load_mano_model
from mmhandobj.structures import YCB_CLASSES, pinhole_project

from ..annotation_file import empty_frame, encode_mask, save_annotation_file

DEXYCB_SUBJECTS = (
    '20200709-subject-01', '20200813-subject-02', '20200820-subject-03',
    '20200903-subject-04', '20200908-subject-05', '20200918-subject-06',
    '20200928-subject-07', '20201002-subject-08', '20201015-subject-09',
    '20201022-subject-10')
DEXYCB_SERIALS = ('836212060125', '839512060362', '840412060917', '841412060263',
                  '932122060857', '932122060861', '932122061900', '932122062010')
DEXYCB_SETUPS = ('s0', 's1', 's2', 's3')
DEXYCB_SPLITS = ('train', 'val', 'test')


def dexycb_split_rule(setup: str, split: str) -> Tuple[List[int], List[int], Any]:
    """The dex-ycb-toolkit split rule.

    Returns:
        ``(subject indices, serial indices, keep(i) -> bool)`` where ``i`` is a sequence's
        position in its subject's sorted sequence list.
    """
    if setup not in DEXYCB_SETUPS:
        raise ValueError(f'unknown DexYCB setup {setup!r}; expected one of {DEXYCB_SETUPS}')
    if split not in DEXYCB_SPLITS:
        raise ValueError(f'unknown DexYCB split {split!r}; expected one of {DEXYCB_SPLITS}')
    every, all_cams = list(range(10)), list(range(8))
    if setup == 's0':
        subjects = {'train': every, 'val': [0, 1], 'test': list(range(2, 10))}[split]
        return subjects, all_cams, (lambda i: i % 5 != 4) if split == 'train' else (
            lambda i: i % 5 == 4)
    if setup == 's1':
        subjects = {'train': [0, 1, 2, 3, 4, 5, 9], 'val': [6], 'test': [7, 8]}[split]
        return subjects, all_cams, lambda i: True
    if setup == 's2':
        serials = {'train': list(range(6)), 'val': [6], 'test': [7]}[split]
        return every, serials, lambda i: True
    unseen = {'train': None, 'val': (3, 19), 'test': (7, 11, 15)}[split]
    if unseen is None:
        return every, all_cams, lambda i: i // 5 not in (3, 7, 11, 15, 19)
    return every, all_cams, lambda i: i // 5 in unseen


def _load_yaml(path: str) -> Dict[str, Any]:
    if not osp.isfile(path):
        raise FileNotFoundError(f'DexYCB file not found: {path}')
    with open(path) as f:
        try:
            data = yaml.safe_load(f)
        except yaml.YAMLError as err:
            raise ValueError(f'{path}: not a readable YAML file ({err})') from err
    if not isinstance(data, dict):
        raise ValueError(f'{path}: expected a YAML mapping')
    return data


def _require(data: Dict[str, Any], key: str, path: str) -> Any:
    if key not in data:
        raise KeyError(f'{path}: missing key {key!r}')
    return data[key]


def _read_intrinsics(path: str) -> Dict[str, float]:
    """``color: {fx, fy, ppx, ppy}`` of a ``<serial>_640x480.yml`` as floats."""
    color = _require(_load_yaml(path), 'color', path)
    try:
        return {key: float(color[key]) for key in ('fx', 'fy', 'ppx', 'ppy')}
    except KeyError as err:
        raise KeyError(f'{path}: color intrinsics missing {err}') from err
    except (TypeError, ValueError) as err:
        raise ValueError(f'{path}: color fx, fy, ppx, ppy must be numbers, got {color}') from err


def load_pca_tables(mano_root: str) -> Dict[str, Dict[str, np.ndarray]]:
    """``hands_components`` (45, 45) and ``hands_mean`` (45,) of both MANO sides."""
    tables = {}
    for side in ('right', 'left'):
        path = osp.join(mano_root, f'MANO_{side.upper()}.pkl')
        if not osp.isfile(path):
            raise FileNotFoundError(f'MANO model not found: {path} (--mano-root must hold '
                                    'MANO_RIGHT.pkl and MANO_LEFT.pkl)')
        model = load_mano_model(path)
        tables[side] = dict(
            components=np.asarray(model['hands_components'], np.float64),
            mean=np.asarray(model['hands_mean'], np.float64).reshape(45))
    return tables


def _hand_object_record(sample: Dict[str, Any], labels: Dict[str, np.ndarray],
                        pca: Dict[str, Dict[str, np.ndarray]], where: str) -> Dict[str, Any]:
    """Build one frame record from a toolkit sample dict and its label arrays."""
    rec = empty_frame()
    intr = _require(sample, 'intrinsics', where)
    try:
        rec['cam_intr'] = np.array([[intr['fx'], 0, intr['ppx']], [0, intr['fy'], intr['ppy']],
                                    [0, 0, 1]], np.float64)
    except KeyError as err:
        raise KeyError(f'{where}: intrinsics missing {err}') from err
    side = _require(sample, 'mano_side', where)
    if side not in ('left', 'right'):
        raise ValueError(f'{where}: mano_side must be "left" or "right", got {side!r}')
    rec['is_left'] = side == 'left'
    betas = np.asarray(_require(sample, 'mano_betas', where), np.float64).reshape(-1)
    if betas.size != 10:
        raise ValueError(f'{where}: mano_betas has {betas.size} values, expected 10')
    rec['mano_shape'] = betas
    for key in ('pose_m', 'joint_3d', 'joint_2d', 'pose_y'):
        _require(labels, key, where)
    pose_m = np.asarray(labels['pose_m'], np.float64).reshape(-1)
    joint_3d = np.asarray(labels['joint_3d'], np.float64).reshape(21, 3)
    joint_2d = np.asarray(labels['joint_2d'], np.float64).reshape(21, 2)
    if pose_m.size != 51:
        raise ValueError(f'{where}: pose_m has {pose_m.size} values, expected 51')
    rec['has_hand'] = not np.all(joint_3d == -1)
    has_joints2d, has_pose = not np.all(joint_2d == -1), not np.all(pose_m == 0)
    rec['hfl_hand'] = rec['has_hand'] and has_joints2d and has_pose
    if rec['has_hand']:
        if not has_joints2d:
            joint_2d = pinhole_project(joint_3d, rec['cam_intr'])
        mano_pose = (np.concatenate([pose_m[:3], pose_m[3:48] @ pca[side]['components']])
                     if has_pose else np.full(48, np.nan))
        rec.update(joints3d=joint_3d, joints2d=joint_2d, root_joint=joint_3d[0],
                   mano_pose=mano_pose)
    ycb_ids = list(_require(sample, 'ycb_ids', where))
    grasp = int(_require(sample, 'ycb_grasp_ind', where))
    if not 0 <= grasp < len(ycb_ids):
        raise ValueError(f'{where}: ycb_grasp_ind {grasp} out of range for ycb_ids {ycb_ids}')
    cls = int(ycb_ids[grasp])
    if cls not in YCB_CLASSES:
        raise ValueError(f'{where}: unknown YCB class id {cls}')
    pose_y = np.asarray(labels['pose_y'], np.float64).reshape(len(ycb_ids), 3, 4)[grasp]
    rec['obj_index'] = cls - 1
    if not np.all(pose_y == 0):
        rec.update(has_obj=True, obj_pose=pose_y)
    return rec


def _finish(out_file: str, frames: List[Dict[str, Any]], meta: Dict[str, Any],
            pca: Dict[str, Dict[str, np.ndarray]]) -> Dict[str, int]:
    counts = dict(frames=len(frames), with_hand=int(sum(f['has_hand'] for f in frames)),
                  with_hand_hfl=int(sum(f.pop('hfl_hand') for f in frames)),
                  with_object=int(sum(f['has_obj'] for f in frames)),
                  left=int(sum(f['is_left'] for f in frames)))
    print_log(f'{out_file}: {counts["frames"]} frames, {counts["with_hand"]} with a hand '
              f'(joint_3d given: the frames the toolkit scores), {counts["with_hand_hfl"]} of '
              f'them with joint_2d and pose_m too (the HFL-Net / HandOccNet frames), '
              f'{counts["with_object"]} with an object pose', logger='current')
    save_annotation_file(out_file, frames, dict(
        meta, dataset='dexycb', obj_names=[YCB_CLASSES[c] for c in range(1, 22)],
        mano_pose_offset=pca['right']['mean'].tolist(), mano_pose_flat=False, counts=counts))
    return counts


def convert_dexycb(root: str, out_file: str, mano_root: str, setup: str = 's0',
                   split: str = 'train', strict: bool = False) -> Dict[str, int]:
    """Write the annotation file of one DexYCB setup/split from the raw layout.

    Args:
        root: DexYCB root (``DEX_YCB_DIR``).
        out_file: Output ``.npz``.
        mano_root: Folder with ``MANO_RIGHT.pkl`` and ``MANO_LEFT.pkl``.
        setup: ``'s0'`` .. ``'s3'``.
        split: ``'train'``, ``'val'`` or ``'test'``.
        strict: As the toolkit: exactly 100 sequences per subject and all cameras of the
            split. Otherwise any number of sequences, and only the split's cameras that the
            sequence's ``meta.yml`` lists (small copies may hold fewer than 8).

    Returns:
        Counts: ``frames``, ``with_hand`` (``joint_3d`` given), ``with_hand_hfl`` (and
        ``joint_2d``, ``pose_m``), ``with_object``, ``left``.
    """
    subjects, serial_ind, keep = dexycb_split_rule(setup, split)
    pca = load_pca_tables(mano_root)
    serials = [DEXYCB_SERIALS[c] for c in serial_ind]
    intrinsics: Dict[str, Dict[str, float]] = {}
    frames = []
    for s in subjects:
        subject_dir = osp.join(root, DEXYCB_SUBJECTS[s])
        if not osp.isdir(subject_dir):
            raise FileNotFoundError(f'DexYCB subject folder not found: {subject_dir}')
        seqs = sorted(os.listdir(subject_dir))
        if strict and len(seqs) != 100:
            raise ValueError(f'{subject_dir}: {len(seqs)} sequences, expected 100 (strict)')
        for i, seq in enumerate(seqs):
            if not keep(i):
                continue
            meta_path = osp.join(subject_dir, seq, 'meta.yml')
            meta = _load_yaml(meta_path)
            calib = _require(meta, 'mano_calib', meta_path)[0]
            mano_path = osp.join(root, 'calibration', f'mano_{calib}', 'mano.yml')
            sample = dict(
                ycb_ids=_require(meta, 'ycb_ids', meta_path),
                ycb_grasp_ind=_require(meta, 'ycb_grasp_ind', meta_path),
                mano_side=_require(meta, 'mano_sides', meta_path)[0],
                mano_betas=_require(_load_yaml(mano_path), 'betas', mano_path))
            num_frames = int(_require(meta, 'num_frames', meta_path))
            cameras = serials if strict else [
                c for c in serials if c in _require(meta, 'serials', meta_path)]
            for serial in cameras:
                if serial not in intrinsics:
                    path = osp.join(root, 'calibration', 'intrinsics', f'{serial}_640x480.yml')
                    intrinsics[serial] = _read_intrinsics(path)
                for f in range(num_frames):
                    rel_dir = osp.join(DEXYCB_SUBJECTS[s], seq, serial)
                    label_path = osp.join(root, rel_dir, f'labels_{f:06d}.npz')
                    if not osp.isfile(label_path):
                        raise FileNotFoundError(f'DexYCB labels not found: {label_path}')
                    try:
                        with np.load(label_path, allow_pickle=False) as npz:
                            labels = {k: npz[k] for k in npz.files}
                    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as err:
                        raise ValueError(f'{label_path}: truncated or corrupt DexYCB labels '
                                         f'file ({type(err).__name__}: {err}); extract it '
                                         'again from the DexYCB archive') from err
                    rec = _hand_object_record(
                        dict(sample, intrinsics=intrinsics[serial]), labels, pca, label_path)
                    rec.update(img_path=osp.join(rel_dir, f'color_{f:06d}.jpg'),
                               sequence=f'{DEXYCB_SUBJECTS[s]}/{seq}',
                               frame_key=f'{rel_dir}/{f:06d}')
                    if 'seg' not in labels:
                        raise KeyError(f'{label_path}: missing key "seg"')
                    rec['mask_rle'] = encode_mask(labels['seg'] == rec['obj_index'] + 1)
                    frames.append(rec)
    if not frames:
        raise ValueError(f'DexYCB {setup}/{split}: no frames found under {root}')
    return _finish(out_file, frames, dict(setup=setup, split=split, image_size=[640, 480],
                                          mask='modal', source=osp.abspath(root)), pca)


def convert_dexycb_hfl_json(json_file: str, root: str, out_file: str, mano_root: str,
                            setup: str = 's0', split: str = 'train',
                            frames_limit: Optional[int] = None) -> Dict[str, int]:
    """Convert an HFL-style ``dex_ycb_s0_{train,test}_data.json`` (docs/data_formats.md D4).

    Args:
        json_file: The JSON (a dict ``"id_<idx>" -> sample``).
        root: DexYCB root; ``color_file`` and ``object_seg_file`` are relative to it.
        out_file: Output ``.npz``.
        mano_root: Folder with both MANO files.
        setup: Setup name recorded in the file.
        split: Split name recorded in the file.
        frames_limit: Convert only the first N samples (for quick checks).

    Returns:
        Counts as :func:`convert_dexycb`. Masks are the amodal ``object_seg_file`` renders.
    """
    if split not in DEXYCB_SPLITS:
        raise ValueError(f'unknown DexYCB split {split!r}; expected one of {DEXYCB_SPLITS}')
    pca = load_pca_tables(mano_root)
    with open(json_file) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise ValueError(f'{json_file}: expected a dict "id_<idx>" -> sample')
    keys = sorted(data, key=lambda k: int(k[3:]))[:frames_limit]
    frames = []
    for key in keys:
        sample = data[key]
        where = f'{json_file}[{key}]'
        rec = _hand_object_record(sample, sample, pca, where)
        color = _require(sample, 'color_file', where)
        parts = color.split('/')
        rec.update(img_path=color, sequence='/'.join(parts[:2]),
                   frame_key='/'.join(parts[:3] + [parts[-1][6:12]]))
        seg_file = sample.get('object_seg_file')
        if seg_file:
            seg = cv2.imread(osp.join(root, seg_file), cv2.IMREAD_GRAYSCALE)
            if seg is None:
                raise FileNotFoundError(f'{where}: cannot read object_seg_file '
                                        f'{osp.join(root, seg_file)}')
            rec['mask_rle'] = encode_mask(seg != 0)
        frames.append(rec)
    print_log(f'{json_file}: {len(frames)} samples', logger='current')
    return _finish(out_file, frames, dict(setup=setup, split=split, image_size=[640, 480],
                                          mask='amodal', source=osp.abspath(json_file)), pca)

