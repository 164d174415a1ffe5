"""Write a synthetic world in the HO-3D (v2 / v3) on-disk layout (``docs/data_formats.md`` D1-D2).

Layout under ``root``::

    train.txt, evaluation.txt                      "SEQ/FID" lines, annotated frames only
    train/<SEQ>/{rgb,depth,seg,meta}/<FID>.*       seg: 320x240 jpg, hand red, object blue
    evaluation/<SEQ>/{rgb,depth,meta}/<FID>.*      reduced eval metas
    evaluation_xyz.json, evaluation_verts.json     released GT, evaluation.txt order
    models/<objName>/{points.xyz,textured_simple.obj}

Conventions are the real ones: OpenGL camera frame, metres, flat-hand-mean 48-D ``handPose``
with the global rotation in the OpenGL frame, ``wrist = J0(handBeta) + handTrans``, HO3D joint
order with fingertip vertices 744/333/444/555/672, depth as R = LSB, G = MSB.
Each sequence also holds one unannotated frame (all values ``None``, absent from the txt).
"""
import json
import os
import pickle
from typing import Dict, List, Sequence, Tuple

import cv2
import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from mmhandobj.structures import OPENCV_TO_OPENGL as CV_TO_GL
from mmhandobj.structures import YCB_CLASS_IDS, convert_joint_order, pinhole_project
from mmhandobj.utils.image_files import write_png, write_rgb

from .hands import StandinHands
from .meshes import sample_surface
from .objects import HO3D_OBJECTS, ObjectModel, build_object, write_object_model
from .parallel import map_tasks
from .renderer import Mesh, random_background, render, sample_lighting, skin_albedo
from .scene import (
    HO3D_ANCHOR_RANGE,
    HO3D_GRASPS,
    IMAGE_SIZE,
    Camera,
    sample_frames,
    sample_intrinsics,
)

#: Metres per unit of the 16-bit HO3D depth value.
HO3D_DEPTH_SCALE = 0.00012498664727900177

#: Train sequences in the order they are used (the evaluated objects come first). Small worlds
#: repeat the mustard bottle so that a held-out SM sequence has several training sequences of
#: its object (the quick start holds out SM3 and trains on SM2, SM4 and SM5).
TRAIN_SEQUENCES: Tuple[str, ...] = (
    'SM2', 'ABF10', 'GPMF10', 'SM3', 'SM4', 'ABF11', 'GPMF11', 'SM5', 'MC1', 'SS1', 'SMu1',
    'ABF12', 'GPMF12', 'ABF13', 'GPMF13', 'MC2', 'SS2', 'SMu40')
#: Evaluation sequences in the order they are used.
EVAL_SEQUENCES: Tuple[str, ...] = ('SM1', 'MPM10', 'SB11', 'MPM11', 'SB13')

# Sequence-name prefix -> object (longest prefix first), as in ``docs/data_formats.md`` D1.
_SEQ_PREFIX_OBJECT = (
    ('SMu', '025_mug'), ('ShSu', '004_sugar_box'), ('SiBF', '011_banana'),
    ('SiS', '004_sugar_box'), ('GPMF', '010_potted_meat_can'), ('MPM', '010_potted_meat_can'),
    ('ABF', '021_bleach_cleanser'), ('GSF', '037_scissors'), ('MDF', '035_power_drill'),
    ('BB', '011_banana'), ('MC', '003_cracker_box'), ('ND', '035_power_drill'),
    ('SB', '021_bleach_cleanser'), ('SM', '006_mustard_bottle'), ('SS', '004_sugar_box'),
    ('AP', '019_pitcher_base'))

_TRAIN_KEYS = ('handPose', 'handTrans', 'handBeta', 'handJoints3D', 'objRot', 'objTrans',
               'objName', 'objLabel', 'objCorners3DRest', 'objCorners3D', 'camMat')
_V3_KEYS = ('handVertContact', 'handVertDist', 'handVertIntersec', 'handVertObjSurfProj',
            'camIDList')
_EVAL_KEYS = ('handJoints3D', 'handBoundingBox', 'objRot', 'objTrans', 'objName', 'objLabel',
              'objCorners3D', 'objCorners3DRest', 'camMat')
#: Annotated frames per sequence the planner aims for (frames per sequence, not a limit).
FRAMES_PER_SEQUENCE = 25
#: Render labels of the hand and the object (values of :attr:`.renderer.Frame.labels`).
HAND_LABEL, OBJECT_LABEL = 1, 2
#: Distance from the object surface under which a hand vertex is in contact (v3
#: ``handVertContact``), metres.
CONTACT_DISTANCE = 0.004
#: ``cv2.imwrite`` flags of the seg JPEGs: quality 98 with 4:4:4 chroma, so the pure red/blue
#: labels survive compression.
SEG_JPEG_FLAGS = [cv2.IMWRITE_JPEG_QUALITY, 98, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
                  cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]


def sequence_object(seq: str) -> str:
    """YCB object of an HO3D sequence name, e.g. ``'SM2'`` -> ``'006_mustard_bottle'``."""
    for prefix, name in _SEQ_PREFIX_OBJECT:
        if seq.startswith(prefix) and seq[len(prefix):].isdigit():
            return name
    raise ValueError(f'unknown HO3D sequence name {seq!r}')


def _split_counts(total: int, names: Sequence[str], min_seqs: int) -> List[Tuple[str, int]]:
    """Spread ``total`` frames over about ``total / 25`` sequences (at least ``min_seqs``)."""
    count = int(np.clip(np.ceil(total / FRAMES_PER_SEQUENCE), min_seqs, len(names)))
    count = min(count, total)
    sizes = np.full(count, total // count)
    sizes[:total % count] += 1
    return list(zip(names[:count], sizes.tolist()))


def plan_sequences(num_frames: int) -> Dict[str, List[Tuple[str, int]]]:
    """Sequences and annotated frame counts per split (about 20 % evaluation).

    Args:
        num_frames: Total number of annotated frames, at least 4.

    Returns:
        ``{'train': [(seq, n), ...], 'evaluation': [...]}``; at least 3 train sequences.
    """
    if num_frames < 4:
        raise ValueError(f'num_frames must be >= 4 for the HO3D world, got {num_frames}')
    num_eval = max(1, int(round(0.2 * num_frames)))
    return {'train': _split_counts(num_frames - num_eval, TRAIN_SEQUENCES, 3),
            'evaluation': _split_counts(num_eval, EVAL_SEQUENCES, 1)}


def encode_depth(depth_m: np.ndarray) -> np.ndarray:
    """Depth in metres ``(H, W)`` -> the BGR uint8 image ``cv2.imwrite`` stores (R=LSB, G=MSB)."""
    raw = np.clip(np.round(depth_m / HO3D_DEPTH_SCALE), 0, 65535).astype(np.uint16)
    out = np.zeros(depth_m.shape + (3,), dtype=np.uint8)
    out[:, :, 2] = raw & 255
    out[:, :, 1] = raw >> 8
    return out


def _seg_image(labels: np.ndarray) -> np.ndarray:
    """Label map ``(H, W)`` -> 320x240 BGR seg image: hand red, object blue."""
    seg = np.zeros(labels.shape + (3,), dtype=np.uint8)
    seg[labels == HAND_LABEL] = (0, 0, 255)
    seg[labels == OBJECT_LABEL] = (255, 0, 0)
    return cv2.resize(seg, (labels.shape[1] // 2, labels.shape[0] // 2),
                      interpolation=cv2.INTER_NEAREST)


class _ContactModel:
    """Nearest-surface queries on one object (a dense surface sample in a kd-tree)."""

    def __init__(self, obj: ObjectModel) -> None:
        self.obj = obj
        self.surface = sample_surface(obj.vertices, obj.faces, 20000,
                                      np.random.default_rng(1000 + obj.class_id))
        self.tree = cKDTree(self.surface)

    def query(self, verts_gl: np.ndarray, rot: np.ndarray,
              trans: np.ndarray) -> Dict[str, np.ndarray]:
        """HO3D v3 contact keys for hand vertices ``(778, 3)`` (OpenGL) and the object pose."""
        local = (verts_gl - trans) @ rot
        dist, idx = self.tree.query(local)
        return {'handVertContact': dist < CONTACT_DISTANCE,
                'handVertDist': dist,
                'handVertIntersec': self.obj.contains(local),
                'handVertObjSurfProj': self.surface[idx] @ rot.T + trans}


class HO3DWriter:
    """Writes the HO3D-layout world.

    Args:
        root: Dataset root (created).
        mano_dir: Folder of the stand-in MANO files.
        version: ``'v2'`` (png, float32) or ``'v3'`` (jpg, float64, v3-only keys).
        seed: World seed.
    """

    def __init__(self, root: str, mano_dir: str, version: str, seed: int) -> None:
        if version not in ('v2', 'v3'):
            raise ValueError(f"version must be 'v2' or 'v3', got {version!r}")
        self.root = root
        self.mano_dir = mano_dir
        self.hands = StandinHands(mano_dir)
        self.version = version
        self.seed = seed
        self.dtype = np.float32 if version == 'v2' else np.float64
        self.objects = {name: build_object(name) for name in HO3D_OBJECTS}
        self._contact: Dict[str, _ContactModel] = {}

    def write(self, num_frames: int, workers: int = 1) -> Dict:
        """Write everything; returns the summary (frames and sequences per split).

        Args:
            num_frames: Annotated frames (train + evaluation).
            workers: Processes rendering sequences in parallel.
        """
        for name, obj in self.objects.items():
            write_object_model(obj, os.path.join(self.root, 'models', name))
        plan = plan_sequences(num_frames)
        summary: Dict = {'format': 'ho3d', 'version': self.version, 'seed': self.seed,
                         'frames': {}, 'sequences': {}}
        tasks = [(split_id, split, seq_id, seq, count)
                 for split_id, split in enumerate(('train', 'evaluation'))
                 for seq_id, (seq, count) in enumerate(plan[split])]
        results = map_tasks(self, (self.root, self.mano_dir, self.version, self.seed),
                            'write_sequence', tasks, workers)
        for split in ('train', 'evaluation'):
            records = [(task[3], rec) for task, recs in zip(tasks, results) if task[1] == split
                       for rec in recs]
            with open(os.path.join(self.root, f'{split}.txt'), 'w') as f:
                f.write(''.join(f'{seq}/{rec[0]}\n' for seq, rec in records))
            if split == 'evaluation':
                for k, name in ((1, 'xyz'), (2, 'verts')):
                    with open(os.path.join(self.root, f'evaluation_{name}.json'), 'w') as f:
                        json.dump([np.round(rec[k], 7).tolist() for _, rec in records], f)
            summary['frames'][split] = len(records)
            summary['sequences'][split] = [seq for seq, _ in plan[split]]
        return summary

    def write_sequence(self, split_id: int, split: str, seq_id: int, seq: str,
                       count: int) -> List[Tuple[str, np.ndarray, np.ndarray]]:
        """Render and write one sequence: ``count`` annotated frames plus one unannotated.

        Args:
            split_id: 0 train, 1 evaluation (seeds the sequence).
            split: ``'train'`` or ``'evaluation'``.
            seq_id: Index of the sequence in its split (seeds the sequence).
            seq: Sequence name.
            count: Annotated frames.

        Returns:
            ``(fid, joints (21, 3), verts (778, 3))`` per annotated frame, OpenGL, metres.
        """
        rng = np.random.default_rng([self.seed, split_id, seq_id])
        obj = self.objects[sequence_object(seq)]
        K = sample_intrinsics(rng)
        betas = np.clip(rng.normal(0.0, 0.8, size=10), -2.0, 2.0)
        comps, mean = self.hands.pca('right')
        poses = sample_frames(rng, 'right', betas, obj, [Camera(K)], count + 1, comps, mean,
                              self.hands.local_forward('right'), HO3D_ANCHOR_RANGE,
                              HO3D_GRASPS)
        hand_pose = np.zeros((len(poses), 48))
        hand_trans = np.zeros((len(poses), 3))
        obj_rot = np.zeros((len(poses), 3, 1))
        obj_trans = np.zeros((len(poses), 3))
        for k, p in enumerate(poses):
            hand_pose[k, :3] = Rotation.from_matrix(CV_TO_GL @ p.rotation).as_rotvec()
            hand_pose[k, 3:] = p.pca @ comps + mean
            hand_trans[k] = CV_TO_GL @ (p.root + p.trans) - p.root
            obj_rot[k, :, 0] = Rotation.from_matrix(CV_TO_GL @ p.obj_rotation).as_rotvec()
            obj_trans[k] = CV_TO_GL @ p.obj_translation
        hand_pose, hand_trans, obj_rot, obj_trans = (
            a.astype(self.dtype) for a in (hand_pose, hand_trans, obj_rot, obj_trans))
        beta = betas.astype(self.dtype)
        verts_gl, joints_simple = self.hands.forward(
            'ho3d', 'right', hand_pose, np.repeat(beta[None], len(poses), axis=0), hand_trans)
        joints_gl = convert_joint_order(joints_simple, 'simple', 'mano')
        skin = skin_albedo(rng, len(self.hands.faces('right')))
        folder = os.path.join(self.root, split, seq)
        for sub in ('rgb', 'depth', 'meta') + (('seg',) if split == 'train' else ()):
            os.makedirs(os.path.join(folder, sub), exist_ok=True)
        unannotated = count // 2
        records = []
        for k in range(len(poses)):
            fid = f'{k:04d}'
            rot = cv2.Rodrigues(obj_rot[k].astype(np.float64))[0]
            obj_gl = obj.vertices @ rot.T + obj_trans[k]
            light, ambient = sample_lighting(rng)
            frame = render([Mesh(verts_gl[k] @ CV_TO_GL, self.hands.faces('right'), skin,
                                 HAND_LABEL),
                            Mesh(obj_gl @ CV_TO_GL, obj.faces, obj.face_colors.astype(float),
                                 OBJECT_LABEL)],
                           K, random_background(rng, IMAGE_SIZE), rng.uniform(1.0, 1.5),
                           light, ambient)
            self._write_images(folder, fid, frame, split)
            if k == unannotated:
                keys = _EVAL_KEYS if split == 'evaluation' else _TRAIN_KEYS + (
                    _V3_KEYS if self.version == 'v3' else ())
                meta = {key: None for key in keys}
            else:
                corners_rest = obj.corners()
                meta = {
                    'objRot': obj_rot[k], 'objTrans': obj_trans[k], 'objName': obj.name,
                    'objLabel': YCB_CLASS_IDS[obj.name],
                    'objCorners3DRest': corners_rest.astype(self.dtype),
                    'objCorners3D': (corners_rest @ rot.T + obj_trans[k]).astype(self.dtype),
                    'camMat': K.astype(self.dtype)}
                if split == 'train':
                    meta.update(handPose=hand_pose[k], handTrans=hand_trans[k], handBeta=beta,
                                handJoints3D=joints_gl[k].astype(self.dtype))
                    if self.version == 'v3':
                        meta.update(self._v3_keys(obj, verts_gl[k], rot, obj_trans[k]))
                else:
                    uv = pinhole_project(verts_gl[k] @ CV_TO_GL, K)
                    box = np.concatenate([uv.min(0), uv.max(0)])
                    box = np.clip(box, 0, [IMAGE_SIZE[1] - 1, IMAGE_SIZE[0] - 1] * 2)
                    meta.update(handJoints3D=joints_gl[k, 0].astype(self.dtype),
                                handBoundingBox=box.astype(self.dtype))
                records.append((fid, joints_gl[k], verts_gl[k]))
            with open(os.path.join(folder, 'meta', f'{fid}.pkl'), 'wb') as f:
                pickle.dump(meta, f, protocol=2)
        return records

    def _v3_keys(self, obj: ObjectModel, verts_gl: np.ndarray, rot: np.ndarray,
                 trans: np.ndarray) -> Dict:
        """The v3-only train keys (contact with the object surface, camera ids)."""
        if obj.name not in self._contact:
            self._contact[obj.name] = _ContactModel(obj)
        keys = self._contact[obj.name].query(verts_gl, rot, trans.astype(np.float64))
        keys['handVertDist'] = keys['handVertDist'].astype(self.dtype)
        keys['handVertObjSurfProj'] = keys['handVertObjSurfProj'].astype(self.dtype)
        keys['camIDList'] = [0]
        return keys

    def _write_images(self, folder: str, fid: str, frame, split: str) -> None:
        """rgb (png for v2, jpg for v3), depth png and (train) seg jpg."""
        ext = 'png' if self.version == 'v2' else 'jpg'
        write_rgb(os.path.join(folder, 'rgb', f'{fid}.{ext}'), frame.rgb)
        write_png(os.path.join(folder, 'depth', f'{fid}.png'), encode_depth(frame.depth))
        if split == 'train':
            cv2.imwrite(os.path.join(folder, 'seg', f'{fid}.jpg'), _seg_image(frame.labels),
                        SEG_JPEG_FLAGS)
