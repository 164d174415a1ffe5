"""Convert the raw HO-3D (v2/v3) layout to an mmhandobj annotation file.

Reads ``<root>/<split>.txt`` (only annotated frames, in official order), every
``<root>/<split>/<SEQ>/meta/<FID>.pkl`` and, for the train split, the rendered segmentation
``<root>/train/<SEQ>/seg/<FID>.jpg`` (object = blue > 200, resized nearest to the image size).
An HFL-Net ``ho3d_train_data.json`` can replace the metas' hand annotations (and HFL's
``train_segLabel`` PNGs the ``seg/`` masks). Everything is converted from HO3D's OpenGL camera
to OpenCV here (C = diag(1, -1, -1)): joints/object points ``X_cv = C X_gl``, object pose
``[C R | C t]``, MANO global orient ``rotvec(C Rot(handPose[:3]))``; finger poses stay in the
flat-hand-mean convention (``mano_pose_offset`` = 0). Joints are reordered from HO3D
(MANO-native) to the simple order.
"""
import json
import os
import os.path as osp
import pickle
from typing import Any, Dict, List, Optional, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from mmhandobj.structures import MANO_TO_SIMPLE, OPENCV_TO_OPENGL, pinhole_project

from ..annotation_file import empty_frame, encode_mask, save_annotation_file

HO3D_SPLITS = ('train', 'evaluation')
HO3D_VERSIONS = ('v2', 'v3')
_TRAIN_KEYS = ('handPose', 'handBeta', 'handJoints3D', 'objRot', 'objTrans', 'objName', 'camMat')
_EVAL_KEYS = ('handJoints3D', 'handBoundingBox', 'objRot', 'objTrans', 'objName', 'camMat')


def read_ho3d_meta(path: str) -> Dict[str, Any]:
    """Load one HO3D ``meta/<FID>.pkl`` (latin1 first, as the official reader)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'HO3D meta file not found: {path}')
    with open(path, 'rb') as f:
        try:
            meta = pickle.load(f, encoding='latin1')
        except (UnicodeDecodeError, pickle.UnpicklingError, EOFError) as err:
            raise ValueError(f'{path}: unreadable pickle ({err})') from err
    if not isinstance(meta, dict):
        raise ValueError(f'{path}: expected a pickled dict, got {type(meta).__name__}')
    return meta


def _field(meta: Dict[str, Any], key: str, path: str, size: Optional[int] = None) -> np.ndarray:
    """Fetch ``meta[key]`` as a float64 array, checking presence, size and finiteness."""
    if key not in meta:
        raise KeyError(f'{path}: missing meta key {key!r}')
    if meta[key] is None:
        raise ValueError(f'{path}: meta key {key!r} is None (unannotated frame listed in the '
                         'split file)')
    value = np.asarray(meta[key], dtype=np.float64)
    if size is not None and value.size != size:
        raise ValueError(f'{path}: meta key {key!r} has {value.size} values, expected {size}')
    if not np.isfinite(value).all():
        raise ValueError(f'{path}: meta key {key!r} contains NaN/inf')
    return value


def find_rgb(root: str, split: str, seq: str, fid: str) -> str:
    """Relative path of a frame's RGB image (``.png`` for v2, ``.jpg`` for v3)."""
    for ext in ('.png', '.jpg'):
        rel = osp.join(split, seq, 'rgb', fid + ext)
        if osp.isfile(osp.join(root, rel)):
            return rel
    raise FileNotFoundError(f'HO3D image not found: {osp.join(root, split, seq, "rgb", fid)}'
                            '.png|.jpg')


def read_split_file(root: str, split: str) -> List[Tuple[str, str]]:
    """Read ``<root>/<split>.txt`` as ``[(SEQ, FID), ...]``."""
    if split not in HO3D_SPLITS:
        raise ValueError(f'unknown HO3D split {split!r}; expected one of {HO3D_SPLITS}')
    path = osp.join(root, f'{split}.txt')
    if not osp.isfile(path):
        raise FileNotFoundError(f'HO3D split file not found: {path}')
    entries = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split('/')
            if len(parts) != 2:
                raise ValueError(f'{path}:{line_no}: expected "SEQ/FID", got {line!r}')
            entries.append((parts[0], parts[1]))
    return entries


def object_mask_from_seg(path: str, width: int, height: int) -> np.ndarray:
    """Object mask from a rendered HO3D ``seg`` jpg: blue > 200, resized nearest.

    Returns:
        ``(H, W)`` uint8 mask (1 = object).
    """
    seg = cv2.imread(path, cv2.IMREAD_COLOR)
    if seg is None:
        raise ValueError(f'cannot read HO3D segmentation image {path}')
    seg = cv2.resize(seg, (width, height), interpolation=cv2.INTER_NEAREST)
    return (seg[:, :, 0] > 200).astype(np.uint8)


def _rotvec_to_cv(aa: np.ndarray) -> np.ndarray:
    """Axis-angle of a rotation expressed in OpenGL -> the same rotation in OpenCV."""
    rot, _ = cv2.Rodrigues(aa.reshape(3, 1))
    return cv2.Rodrigues(OPENCV_TO_OPENGL @ rot)[0].reshape(3)


def _hfl_hand(entry: Dict[str, Any], where: str) -> Dict[str, np.ndarray]:
    """Hand fields of one HFL-Net ``ho3d_train_data.json`` entry (docs/data_formats.md D4).

    ``joints_3d`` is OpenCV in the simple order (HFL projects it with ``K`` as the 2D targets
    of a manopth-order network); ``mano_params`` is the raw ``handPose`` (global in OpenGL)
    followed by ``handBeta``.
    """
    for key in ('K', 'joints_3d', 'mano_params'):
        if key not in entry:
            raise KeyError(f'{where}: missing key {key!r}')
    cam = np.asarray(entry['K'], np.float64).reshape(3, 3)
    joints = np.asarray(entry['joints_3d'], np.float64).reshape(21, 3)
    params = np.asarray(entry['mano_params'], np.float64).reshape(-1)
    if params.size != 58:
        raise ValueError(f'{where}: mano_params has {params.size} values, expected 58')
    pose = params[:48].copy()
    pose[:3] = _rotvec_to_cv(pose[:3])
    return dict(cam_intr=cam, has_hand=True, joints3d=joints, root_joint=joints[0],
                joints2d=pinhole_project(joints, cam), mano_pose=pose, mano_shape=params[48:])


def read_hfl_json(json_file: str) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Entries of an HFL-Net ``ho3d_train_data.json`` keyed by ``(SEQ, FID)``, in file order."""
    with open(json_file) as f:
        data = json.load(f)
    if not isinstance(data, list):
        raise ValueError(f'{json_file}: expected a JSON list of frame dicts')
    entries = {}
    for i, entry in enumerate(data):
        if 'seqName_id' not in entry:
            raise KeyError(f'{json_file}[{i}]: missing key "seqName_id"')
        seq, fid = entry['seqName_id'].split('/')
        entries[(seq, fid)] = entry
    return entries


def convert_ho3d(root: str, out_file: str, split: str, version: str = 'v2',
                 allow_missing_seg: bool = False, hfl_json: Optional[str] = None,
                 seg_label_root: Optional[str] = None) -> Dict[str, int]:
    """Write the annotation file of one HO3D split.

    Args:
        root: HO3D root (holds ``train.txt``, ``evaluation.txt``, ``train/``, ``evaluation/``).
        out_file: Output ``.npz``.
        split: ``'train'`` or ``'evaluation'``.
        version: ``'v2'`` or ``'v3'`` (recorded; both layouts are read the same way).
        allow_missing_seg: Train split: store no mask for frames without ``seg/<FID>.jpg``
            (counted) instead of raising.
        hfl_json: Train split: take the frame list and hand annotations from an HFL-Net
            ``ho3d_train_data.json`` (the object pose and name still come from the metas).
        seg_label_root: Train split: read masks from HFL/Semi-Hand-Object
            ``<seg_label_root>/train_segLabel/<SEQ>/<FID>.png`` (nonzero = object) instead of
            ``seg/``.

    Returns:
        Counts: ``frames``, ``masks``, ``missing_seg``.
    """
    if version not in HO3D_VERSIONS:
        raise ValueError(f'unknown HO3D version {version!r}; expected one of {HO3D_VERSIONS}')
    hfl = None
    if hfl_json is not None:
        if split != 'train':
            raise ValueError(f'an HFL-Net JSON holds the train split, not {split!r}')
        hfl = read_hfl_json(hfl_json)
    entries = list(hfl) if hfl is not None else read_split_file(root, split)
    if not entries:
        raise ValueError(f'{osp.join(root, split + ".txt")}: no frames listed')
    obj_names: List[str] = []
    frames = []
    counts = dict(frames=0, masks=0, missing_seg=0)
    width = height = None
    for seq, fid in entries:
        meta_path = osp.join(root, split, seq, 'meta', f'{fid}.pkl')
        meta = read_ho3d_meta(meta_path)
        rec = empty_frame()
        rec['img_path'] = find_rgb(root, split, seq, fid)
        if width is None:
            img = cv2.imread(osp.join(root, rec['img_path']), cv2.IMREAD_UNCHANGED)
            if img is None:
                raise ValueError(f'cannot read image {osp.join(root, rec["img_path"])}')
            height, width = img.shape[:2]
        rec['sequence'] = seq
        rec['frame_key'] = f'{seq}/{fid}'
        is_eval = _field(meta, 'handJoints3D', meta_path).size == 3
        for key in (_EVAL_KEYS if is_eval else _TRAIN_KEYS):
            if key not in meta:
                raise KeyError(f'{meta_path}: missing meta key {key!r}')
        cam = _field(meta, 'camMat', meta_path, 9).reshape(3, 3)
        rec['cam_intr'] = cam
        if is_eval:
            rec['root_joint'] = OPENCV_TO_OPENGL @ _field(meta, 'handJoints3D', meta_path, 3)
            box = _field(meta, 'handBoundingBox', meta_path, 4)
            if box[2] <= box[0] or box[3] <= box[1]:
                raise ValueError(f'{meta_path}: degenerate handBoundingBox {box.tolist()} '
                                 '(expected x1 < x2, y1 < y2)')
            rec['hand_box'] = box
        elif hfl is not None:
            rec.update(_hfl_hand(hfl[(seq, fid)], f'{hfl_json}[{seq}/{fid}]'))
        else:
            joints_cv = (_field(meta, 'handJoints3D', meta_path, 63).reshape(21, 3)
                         @ OPENCV_TO_OPENGL)[MANO_TO_SIMPLE]
            if (joints_cv[:, 2] <= 0).any():
                raise ValueError(f'{meta_path}: handJoints3D behind the camera')
            pose = _field(meta, 'handPose', meta_path, 48).copy()
            pose[:3] = _rotvec_to_cv(pose[:3])
            rec.update(has_hand=True, joints3d=joints_cv, root_joint=joints_cv[0],
                       joints2d=pinhole_project(joints_cv, cam), mano_pose=pose,
                       mano_shape=_field(meta, 'handBeta', meta_path, 10))
        name = meta['objName']
        if not isinstance(name, str) or not name:
            raise ValueError(f'{meta_path}: meta key "objName" must be a YCB name, got {name!r}')
        if name not in obj_names:
            obj_names.append(name)
        rot, _ = cv2.Rodrigues(_field(meta, 'objRot', meta_path, 3).reshape(3, 1))
        trans = _field(meta, 'objTrans', meta_path, 3)
        rec.update(has_obj=True, obj_index=obj_names.index(name),
                   obj_pose=np.concatenate(
                       [OPENCV_TO_OPENGL @ rot, (OPENCV_TO_OPENGL @ trans)[:, None]], 1))
        if split == 'train' and seg_label_root is not None:
            label_path = osp.join(seg_label_root, 'train_segLabel', seq, f'{fid}.png')
            label = cv2.imread(label_path, cv2.IMREAD_GRAYSCALE)
            if label is None:
                raise FileNotFoundError(f'cannot read HO3D segmentation label {label_path}')
            rec['mask_rle'] = encode_mask(label != 0)
            counts['masks'] += 1
        elif split == 'train':
            seg_path = osp.join(root, split, seq, 'seg', f'{fid}.jpg')
            if osp.isfile(seg_path):
                rec['mask_rle'] = encode_mask(object_mask_from_seg(seg_path, width, height))
                counts['masks'] += 1
            elif allow_missing_seg:
                counts['missing_seg'] += 1
            else:
                raise FileNotFoundError(
                    f'HO3D segmentation not found: {seg_path} (unpack the HO3D segmentation '
                    'archive into train/, or pass --allow-missing-seg)')
        frames.append(rec)
    counts['frames'] = len(frames)
    if counts['missing_seg']:
        print_log(f'HO3D {split}: {counts["missing_seg"]} frames without seg/ mask',
                  logger='current')
    save_annotation_file(out_file, frames, dict(
        dataset='ho3d', version=version, split=split, image_size=[width, height],
        obj_names=obj_names, mano_pose_offset=[0.0] * 45, mano_pose_flat=True, counts=counts,
        source=os.path.abspath(hfl_json or root)))
    return counts
