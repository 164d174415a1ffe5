"""Write a synthetic world in the DexYCB on-disk layout (``docs/data_formats.md`` D3, D8).

Layout under ``root``::

    <subject>/<YYYYMMDD_HHMMSS>/meta.yml
    <subject>/<YYYYMMDD_HHMMSS>/<serial>/{color_%06d.jpg, aligned_depth_to_color_%06d.png,
                                          labels_%06d.npz}
    calibration/intrinsics/<serial>_640x480.yml          color: {fx, fy, ppx, ppy}
    calibration/extrinsics_<name>/extrinsics.yml          camera -> master, 3x4 row-major
    calibration/mano_<..._subject-XX_right>/mano.yml      betas (also used for left hands)
    models/<21 YCB names>/{points.xyz, textured_simple.obj}

Relaxed mode (default): 10 subjects x 5 sequences, a few cameras and frames (the counts follow
``num_frames``). Strict mode: 100 sequences per subject and all 8 cameras, so the unmodified
dex-ycb-toolkit accepts the root; 5 sequences per subject are rendered (``num_frames: 1``) and
sequence ``i`` of the other 95 holds hard links (or copies) of rendered sequence ``i % 5``, so
every s0 split only ever sees scenes rendered for that split.

A sequence has one hand (left in about a third of them) grasping one object, with up to one
static distractor object; the cameras orbit the scene. One frame per s0 split (train, val,
test) has no hand and carries the invalid markers (``pose_m`` = 0, joints = -1).
"""
import os
import shutil
from typing import Dict, List, Sequence, Tuple

import numpy as np
from scipy.spatial.transform import Rotation

from mmhandobj.structures import YCB_CLASSES, pinhole_project
from mmhandobj.utils.image_files import write_png, write_rgb

from .hands import StandinHands
from .objects import ObjectModel, build_object, write_object_model
from .parallel import map_tasks
from .renderer import Mesh, random_background, render, sample_lighting, skin_albedo
from .scene import (
    DEXYCB_ANCHOR_RANGE,
    DEXYCB_GRASPS,
    IMAGE_SIZE,
    Camera,
    make_rig,
    sample_frames,
    sample_intrinsics,
)

#: DexYCB ``_SUBJECTS``.
SUBJECTS: Tuple[str, ...] = (
    '20200709-subject-01', '20200813-subject-02', '20200820-subject-03', '20200903-subject-04',
    '20200908-subject-05', '20200918-subject-06', '20200928-subject-07', '20201002-subject-08',
    '20201015-subject-09', '20201022-subject-10')
#: DexYCB ``_SERIALS`` (camera index 0..7; camera 0 is the master).
SERIALS: Tuple[str, ...] = (
    '836212060125', '839512060362', '840412060917', '841412060263', '932122060857',
    '932122060861', '932122061900', '932122062010')
#: MANO calibration names per subject (``calibration/mano_<name>/mano.yml``).
MANO_CALIBS: Tuple[str, ...] = (
    '20200709_140042_subject-01_right', '20200813_143449_subject-02_right',
    '20200820_133405_subject-03_right', '20200903_101911_subject-04_right',
    '20200908_140650_subject-05_right', '20200918_110920_subject-06_right',
    '20200807_132210_subject-07_right', '20201002_103251_subject-08_right',
    '20200514_142106_subject-09_right', '20201022_105224_subject-10_right')
#: Classes that are grasped (sequence ``i`` of subject ``s`` grasps ``[(s + i) % 10]``).
GRASP_CLASSES: Tuple[int, ...] = (1, 3, 4, 5, 9, 10, 12, 13, 14, 21)
#: Seg value of hand pixels.
HAND_SEG = 255
#: Sequences rendered per subject (both modes).
RENDERED_PER_SUBJECT = 5
#: Sequence folders per subject in strict mode (as the dex-ycb-toolkit asserts).
STRICT_SEQUENCES_PER_SUBJECT = 100
#: Point every camera of a rig looks at, master-camera (world) frame, metres.
RIG_CENTER = np.array([0.0, 0.0, 0.6])


def sequence_name(subject: int, index: int) -> str:
    """Folder name ``YYYYMMDD_HHMMSS`` of sequence ``index`` (sorted order = index order)."""
    date = SUBJECTS[subject][:8]
    return f'{date}_{10 + index // 30:02d}{(index % 30) * 2:02d}{(7 * index) % 60:02d}'


def s0_split(subject: int, index: int) -> str:
    """The s0 split (``'train'``, ``'val'``, ``'test'``) of a sequence (dex_ycb.py's rule)."""
    if index % 5 != 4:
        return 'train'
    return 'val' if subject < 2 else 'test'


def plan_layout(num_frames: int, strict: bool) -> Tuple[int, int]:
    """Cameras per sequence and frames per sequence for a frame budget.

    Args:
        num_frames: Rough total of rendered camera images (10 subjects x 5 sequences x cameras x
            frames); relaxed mode needs at least 50.
        strict: Strict mode (8 cameras, frames from the budget, at least 1).

    Returns:
        ``(num_cameras, frames_per_sequence)``.
    """
    per_seq = num_frames / (len(SUBJECTS) * RENDERED_PER_SUBJECT)
    if strict:
        return len(SERIALS), max(1, int(round(per_seq / len(SERIALS))))
    if num_frames < len(SUBJECTS) * RENDERED_PER_SUBJECT:
        raise ValueError(f'num_frames must be >= 50 for the relaxed DexYCB world, got '
                         f'{num_frames}')
    per_seq = max(1, int(round(per_seq)))
    cams = int(np.clip(per_seq // 2, 1, len(SERIALS)))
    return cams, int(np.ceil(per_seq / cams))


def _yaml_list(values: Sequence, quote: bool) -> str:
    return '[' + ', '.join(f"'{v}'" if quote else repr(v) for v in values) + ']'


class DexYCBWriter:
    """Writes the DexYCB-layout world.

    Args:
        root: Dataset root (created).
        mano_dir: Folder of the stand-in MANO files.
        seed: World seed.
        strict: Strict (toolkit-compatible) or relaxed layout.
    """

    def __init__(self, root: str, mano_dir: str, seed: int, strict: bool) -> None:
        self.root = root
        self.mano_dir = mano_dir
        self.hands = StandinHands(mano_dir)
        self.seed = seed
        self.strict = strict
        self.objects = {name: build_object(name) for name in YCB_CLASSES.values()}

    def write(self, num_frames: int, workers: int = 1) -> Dict:
        """Write everything; returns the summary.

        Args:
            num_frames: Rough total of rendered camera images.
            workers: Processes rendering sequences in parallel.
        """
        num_cams, num_seq_frames = plan_layout(num_frames, self.strict)
        serials = SERIALS[:num_cams]
        for name, obj in self.objects.items():
            write_object_model(obj, os.path.join(self.root, 'models', name))
        cal_rng = np.random.default_rng([self.seed, 1])
        intrinsics = [sample_intrinsics(cal_rng) for _ in serials]
        self._write_intrinsics(serials, intrinsics)
        frames = {'train': 0, 'val': 0, 'test': 0}
        invalid = {'train': 0, 'val': 0, 'test': 0}
        sequences: Dict[str, List[str]] = {'train': [], 'val': [], 'test': []}
        tasks = []
        for s, subject in enumerate(SUBJECTS):
            rng = np.random.default_rng([self.seed, 2, s])
            betas = np.clip(rng.normal(0.0, 0.8, size=10), -2.0, 2.0)
            self._write_yaml(os.path.join('calibration', f'mano_{MANO_CALIBS[s]}', 'mano.yml'),
                             f'betas: {_yaml_list(betas.tolist(), False)}\n')
            cameras = make_rig(rng, intrinsics, RIG_CENTER)
            extrinsics = self._write_extrinsics(s, serials, cameras)
            for i in range(RENDERED_PER_SUBJECT):
                split = s0_split(s, i)
                bad = (s, i) in ((0, 0), (0, 4), (2, 4))
                tasks.append((s, i, serials, cameras, betas, extrinsics, num_seq_frames, bad))
                sequences[split].append(f'{subject}/{sequence_name(s, i)}')
                frames[split] += num_cams * num_seq_frames
                invalid[split] += num_cams if bad else 0
        map_tasks(self, (self.root, self.mano_dir, self.seed, self.strict), 'write_sequence',
                  tasks, workers)
        if self.strict:
            copies = STRICT_SEQUENCES_PER_SUBJECT // RENDERED_PER_SUBJECT
            frames = {k: v * copies for k, v in frames.items()}
            invalid = {k: v * copies for k, v in invalid.items()}
            for s, subject in enumerate(SUBJECTS):
                for i in range(RENDERED_PER_SUBJECT, STRICT_SEQUENCES_PER_SUBJECT):
                    self._link_sequence(s, i % RENDERED_PER_SUBJECT, i)
                    sequences[s0_split(s, i)].append(f'{subject}/{sequence_name(s, i)}')
        return {'format': 'dexycb', 'seed': self.seed, 'strict': self.strict, 'split': 's0',
                'frames': frames, 'invalid_frames': invalid, 'sequences': sequences,
                'serials': list(serials), 'frames_per_sequence': num_seq_frames,
                'sequences_per_subject': STRICT_SEQUENCES_PER_SUBJECT if self.strict
                else RENDERED_PER_SUBJECT}

    def _write_yaml(self, rel_path: str, text: str) -> None:
        path = os.path.join(self.root, rel_path)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(text)

    def _write_intrinsics(self, serials: Sequence[str], intrinsics: List[np.ndarray]) -> None:
        for serial, K in zip(serials, intrinsics):
            self._write_yaml(
                os.path.join('calibration', 'intrinsics', f'{serial}_640x480.yml'),
                f'color:\n  fx: {float(K[0, 0])!r}\n  fy: {float(K[1, 1])!r}\n'
                f'  ppx: {float(K[0, 2])!r}\n  ppy: {float(K[1, 2])!r}\n')

    def _write_extrinsics(self, subject: int, serials: Sequence[str],
                          cameras: List[Camera]) -> str:
        """Camera -> master poses of a subject's rig; returns the extrinsics name."""
        name = f'{SUBJECTS[subject][:8]}_090000'
        tag = np.concatenate([Rotation.from_euler('x', -100, degrees=True).as_matrix(),
                              (RIG_CENTER + [0.0, 0.12, 0.05])[:, None]], axis=1)
        lines = ['extrinsics:']
        for serial, cam in zip(serials, cameras):
            pose = np.concatenate([cam.rotation, cam.translation[:, None]], axis=1)
            lines.append(f"  '{serial}': {_yaml_list(pose.ravel().tolist(), False)}")
        lines.append(f'  apriltag: {_yaml_list(tag.ravel().tolist(), False)}')
        lines.append(f"master: '{serials[0]}'")
        self._write_yaml(os.path.join('calibration', f'extrinsics_{name}', 'extrinsics.yml'),
                         '\n'.join(lines) + '\n')
        return name

    def _write_meta(self, seq_dir: str, serials: Sequence[str], num_frames: int,
                    extrinsics: str, ycb_ids: List[int], grasp_ind: int, side: str,
                    subject: int) -> None:
        text = (f'serials: {_yaml_list(serials, True)}\n'
                f'num_frames: {num_frames}\n'
                f"extrinsics: '{extrinsics}'\n"
                f'ycb_ids: {_yaml_list(ycb_ids, False)}\n'
                f'ycb_grasp_ind: {grasp_ind}\n'
                f"mano_sides: ['{side}']\n"
                f"mano_calib: ['{MANO_CALIBS[subject]}']\n")
        self._write_yaml(os.path.join(seq_dir, 'meta.yml'), text)

    def _distractor(self, rng: np.random.Generator,
                    grasp: int) -> List[Tuple[ObjectModel, np.ndarray, np.ndarray]]:
        """Zero or one static object beside and behind the scene: ``(obj, R, t)`` world."""
        if rng.random() < 0.5:
            return []
        cls = int(rng.choice([c for c in YCB_CLASSES if c != grasp]))
        rot = Rotation.from_euler('zyx', rng.uniform(-180, 180, size=3), degrees=True)
        side = rng.choice([-1.0, 1.0])
        trans = RIG_CENTER + [side * rng.uniform(0.17, 0.24), rng.uniform(0.0, 0.08),
                               rng.uniform(0.12, 0.2)]
        return [(self.objects[YCB_CLASSES[cls]], rot.as_matrix(), trans)]

    def write_sequence(self, s: int, i: int, serials: Sequence[str], cameras: List[Camera],
                       betas: np.ndarray, extrinsics: str, num_frames: int,
                       invalid_first: bool) -> None:
        """Sample, render and write one sequence (all its cameras and frames).

        Args:
            s: Subject index.
            i: Sequence index within the subject (seeds the sequence with ``s``).
            serials: Camera serials.
            cameras: The subject's rig, one camera per serial.
            betas: ``(10,)`` the subject's MANO shape.
            extrinsics: Name of the rig's extrinsics.
            num_frames: Frames per camera.
            invalid_first: Frame 0 has no hand and the invalid markers.
        """
        rng = np.random.default_rng([self.seed, 3, s, i])
        side = 'left' if (s + i) % 3 == 1 else 'right'
        grasp_cls = GRASP_CLASSES[(s + i) % len(GRASP_CLASSES)]
        grasp_obj = self.objects[YCB_CLASSES[grasp_cls]]
        statics = self._distractor(rng, grasp_cls)
        ycb_ids = sorted([grasp_cls] + [o.class_id for o, _, _ in statics])
        seq_dir = os.path.join(SUBJECTS[s], sequence_name(s, i))
        self._write_meta(seq_dir, serials, num_frames, extrinsics, ycb_ids,
                         ycb_ids.index(grasp_cls), side, s)
        comps, mean = self.hands.pca(side)
        poses = sample_frames(rng, side, betas, grasp_obj, cameras, num_frames, comps, mean,
                              self.hands.local_forward(side), DEXYCB_ANCHOR_RANGE,
                              DEXYCB_GRASPS)
        num_cams = len(serials)
        pose_m = np.zeros((num_frames, num_cams, 51))
        pose_y = np.zeros((num_frames, num_cams, len(ycb_ids), 3, 4))
        for f, p in enumerate(poses):
            world_objs = [(grasp_obj, p.obj_rotation, p.obj_translation)] + statics
            for c, cam in enumerate(cameras):
                rot = cam.rotation.T @ p.rotation
                pose_m[f, c, :3] = Rotation.from_matrix(rot).as_rotvec()
                pose_m[f, c, 3:48] = p.pca
                pose_m[f, c, 48:] = cam.to_camera((p.root + p.trans)[None])[0] - p.root
                for obj, obj_rot, obj_trans in world_objs:
                    row = ycb_ids.index(obj.class_id)
                    pose_y[f, c, row, :, :3] = cam.rotation.T @ obj_rot
                    pose_y[f, c, row, :, 3] = cam.to_camera(obj_trans[None])[0]
        pose_m = pose_m.astype(np.float32)
        pose_y = pose_y.astype(np.float32)
        flat_m = pose_m.reshape(-1, 51).astype(np.float64)
        verts, joints = self.hands.forward('dexycb', side, flat_m[:, :48],
                                           np.repeat(betas[None], len(flat_m), axis=0),
                                           flat_m[:, 48:])
        verts = verts.reshape(num_frames, num_cams, 778, 3)
        joint_3d = joints.reshape(num_frames, num_cams, 21, 3).astype(np.float32)
        skin = skin_albedo(rng, len(self.hands.faces(side)))
        for f in range(num_frames):
            no_hand = invalid_first and f == 0
            for c, serial in enumerate(serials):
                meshes = [] if no_hand else [
                    Mesh(verts[f, c], self.hands.faces(side), skin, HAND_SEG)]
                for k, cls in enumerate(ycb_ids):
                    obj = self.objects[YCB_CLASSES[cls]]
                    pose = pose_y[f, c, k].astype(np.float64)
                    meshes.append(Mesh(obj.vertices @ pose[:, :3].T + pose[:, 3], obj.faces,
                                       obj.face_colors.astype(float), cls))
                light, ambient = sample_lighting(rng)
                K = cameras[c].K
                frame = render(meshes, K, random_background(rng, IMAGE_SIZE),
                               rng.uniform(1.0, 1.5), light, ambient)
                if no_hand:
                    labels = {'pose_m': np.zeros((1, 51), np.float32),
                              'joint_3d': np.full((1, 21, 3), -1, np.float32),
                              'joint_2d': np.full((1, 21, 2), -1, np.float32)}
                else:
                    j3d = joint_3d[f, c]
                    labels = {'pose_m': pose_m[f, c][None], 'joint_3d': j3d[None],
                              'joint_2d': pinhole_project(j3d.astype(np.float64), K)
                              .astype(np.float32)[None]}
                self._write_frame(os.path.join(self.root, seq_dir, serial), f, frame,
                                  pose_y[f, c], labels)

    @staticmethod
    def _write_frame(folder: str, f: int, frame, pose_y: np.ndarray,
                     labels: Dict[str, np.ndarray]) -> None:
        os.makedirs(folder, exist_ok=True)
        write_rgb(os.path.join(folder, f'color_{f:06d}.jpg'), frame.rgb)
        depth_mm = np.clip(np.round(frame.depth * 1000.0), 0, 65535).astype(np.uint16)
        write_png(os.path.join(folder, f'aligned_depth_to_color_{f:06d}.png'), depth_mm)
        np.savez_compressed(os.path.join(folder, f'labels_{f:06d}.npz'), seg=frame.labels,
                            pose_y=pose_y, **labels)

    def _link_sequence(self, s: int, src: int, dst: int) -> None:
        """Fill sequence ``dst`` of subject ``s`` with links to rendered sequence ``src``."""
        src_dir = os.path.join(self.root, SUBJECTS[s], sequence_name(s, src))
        dst_dir = os.path.join(self.root, SUBJECTS[s], sequence_name(s, dst))
        for dirpath, _, filenames in os.walk(src_dir):
            out = os.path.join(dst_dir, os.path.relpath(dirpath, src_dir))
            os.makedirs(out, exist_ok=True)
            for name in filenames:
                try:
                    os.link(os.path.join(dirpath, name), os.path.join(out, name))
                except OSError:
                    shutil.copyfile(os.path.join(dirpath, name), os.path.join(out, name))
