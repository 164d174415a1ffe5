"""One inferencer for images, folders, videos and webcams, in the shape of mmpose's.

``HandObjectInferencer(model, weights, det_model, det_weights, device)`` builds HFL-Net (or any
model of this repository) and, optionally, the hand/object detector; calling it with inputs
yields one JSON-able result dict per frame (see :meth:`HandObjectInferencer.__call__` for the
keys and their units) and, with ``out_dir``, writes ``predictions/``, ``visualizations/`` and
``meshes/``.
"""
import json
import logging
import os
import os.path as osp
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.utils import ProgressBar

from mmhandobj.datasets.transforms import read_image
from mmhandobj.datasets.transforms.loading import image_header_size
from mmhandobj.engine import apply_process_settings
from mmhandobj.registry import INFERENCERS
from mmhandobj.structures.detection_classes import category_side_or_name
from mmhandobj.structures.geometry import mirror_points_3d
from mmhandobj.visualization import HandObjectVisualizer, find_mano_layer

from ..detection import DETECTOR_TYPE, default_intrinsics, detect_hand_object, init_detector
from ..inference import as_intrinsics, default_obj_model_root, inference_handobj, init_model
from ..smoothing import HandObjectSmoother
from .meshes import HAND_RGB, OBJECT_RGB, write_glb, write_ply
from .tracking import BoxTracker, ObjectModelCache

REPO_ROOT = Path(__file__).resolve().parents[3]
#: Model names of ``docs/model_zoo.md`` -> config files (relative to the repository root).
MODEL_ZOO = {
    'hfl_r50_ho3d': 'configs/hfl/hfl_r50_ho3d.py',
    'hfl_r50_dexycb': 'configs/hfl/hfl_r50_dexycb.py',
    'hfl_r50_cbam_ho3d': 'configs/hfl/hfl_r50_cbam_ho3d.py',
    'sho_r50_ho3d': 'configs/sho/sho_r50_ho3d.py',
    'sho_r50_dexycb': 'configs/sho/sho_r50_dexycb.py',
    'hfl_r18_synthetic': 'configs/hfl/hfl_r18_synthetic.py',
    'sho_r18_synthetic': 'configs/sho/sho_r18_synthetic.py',
    'fcos_mbv3s_synthetic': 'configs/det/fcos_mbv3s_synthetic.py',
}
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')
VIDEO_EXTENSIONS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')
#: Frame rate assumed for a folder of frames or a camera that reports none.
DEFAULT_FPS = 30.0
#: A video stops after this many unreadable frames in a row.
MAX_BAD_FRAMES = 30
#: Units and frames of the result keys (the header of a video's JSON lines).
UNITS = dict(
    hand_joints_mm='mm, wrist-relative, camera axes (OpenCV: x right, y down, z forward), '
    'simple joint order', hand_root_m='m, wrist in the camera frame',
    hand_joints2d_px='pixels of the frame', obj_rot='3x3, object model -> camera',
    obj_trans_m='m, camera frame', obj_kps2d_px='pixels of the frame',
    boxes='pixels x1 y1 x2 y2', time_s='seconds')

Frame = Tuple[int, str, Optional[np.ndarray]]


def resolve_config(model: Union[str, Path]) -> str:
    """A config path, or the config of a model name of ``docs/model_zoo.md``."""
    if osp.isfile(str(model)):
        return str(model)
    if str(model) in MODEL_ZOO:
        return str(REPO_ROOT / MODEL_ZOO[str(model)])
    raise FileNotFoundError(f'model {model!r}: neither a config file nor a model-zoo name '
                            f'({", ".join(MODEL_ZOO)})')


class FrameSource:
    """Frames of one input: ``(index, name, BGR image or None when unreadable)``.

    ``is_video``: the frames are one sequence of one camera (a video, a webcam, or a folder
    or list read with ``sequence=True``): one MP4 and one JSON-lines file.
    """

    def __init__(self, frames: Iterator[Frame], total: Optional[int], fps: float, name: str,
                 is_video: bool) -> None:
        self.frames, self.total, self.fps, self.name = frames, total, fps, name
        self.is_video = is_video


def _read_or_warn(path: str) -> Optional[np.ndarray]:
    try:
        return read_image(path)
    except (OSError, ValueError) as err:
        print_log(f'{path}: skipped, not a readable image ({err})', logger='current',
                  level=logging.WARNING)
        return None


def _image_list(items: Sequence[Any], name: str, sequence: bool = False) -> FrameSource:
    def frames() -> Iterator[Frame]:
        for i, item in enumerate(items):
            if isinstance(item, np.ndarray):
                yield i, f'{i:06d}', item
            else:
                yield i, osp.splitext(osp.basename(str(item)))[0], _read_or_warn(str(item))
    return FrameSource(frames(), len(items), DEFAULT_FPS, name, is_video=sequence)


def _video(source: Union[str, int]) -> FrameSource:
    is_camera = isinstance(source, int)
    cap = cv2.VideoCapture(source)
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        raise ValueError(f'{source}: cannot read a frame (unreadable video or camera; OpenCV '
                         'backend without this codec?)')
    fps = cap.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    total = None if is_camera else int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def frames() -> Iterator[Frame]:
        index, bad, ok, frame = 0, 0, True, first
        while True:
            if index > 0:
                ok, frame = cap.read()
            if ok:
                bad = 0
                yield index, f'{index:06d}', frame
            elif total is not None and index < total and bad < MAX_BAD_FRAMES:
                bad += 1
                print_log(f'{source}: frame {index} unreadable, skipped', logger='current',
                          level=logging.WARNING)
                yield index, f'{index:06d}', None
            else:
                break
            index += 1
        cap.release()
    name = f'webcam{source}' if is_camera else osp.splitext(osp.basename(source))[0]
    return FrameSource(frames(), total, float(fps), name, is_video=True)


def _check_one_size(folder: str, names: List[str]) -> None:
    """Refuse a folder of frames of different sizes (read from the PNG/JPEG headers)."""
    sizes = {n: image_header_size(np.fromfile(osp.join(folder, n), np.uint8, 1 << 16))
             for n in names}
    first = sizes[names[0]]
    other = next((n for n in names if sizes[n] not in (first, None)), None)
    if other is not None and first is not None:
        raise ValueError(f'{folder}: frame {other} is {sizes[other][0]} x {sizes[other][1]} '
                         f'pixels but {names[0]} is {first[0]} x {first[1]}; the frames of one '
                         'sequence must share one size (one camera)')


def open_inputs(inputs: Any, sequence: bool = False) -> FrameSource:
    """Frames of ``inputs``: an image path, an ``(H, W, 3)`` uint8 BGR array, a list of those,
    a folder of images (name order), a video file or a webcam index (int or digit string).

    Args:
        inputs: As above; a :class:`FrameSource` passes through.
        sequence: Read a folder or a list as the frames of one video (one camera: their
            sizes must agree; one MP4 and one JSON-lines file are written).

    Raises:
        ValueError: Nothing readable is named, or a sequence folder mixes frame sizes (the
            input is said).
    """
    if isinstance(inputs, FrameSource):
        return inputs
    if isinstance(inputs, np.ndarray):
        return _image_list([inputs], 'image')
    if isinstance(inputs, (list, tuple)):
        if not inputs:
            raise ValueError('inputs: empty list')
        return _image_list(list(inputs), 'images', sequence)
    if isinstance(inputs, int) or (isinstance(inputs, str) and inputs.isdigit()):
        return _video(int(inputs))
    path = str(inputs)
    if osp.isdir(path):
        names = sorted(n for n in os.listdir(path) if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise ValueError(f'{path}: no {"/".join(IMAGE_EXTENSIONS)} images in the folder')
        if sequence:
            _check_one_size(path, names)
        return _image_list([osp.join(path, n) for n in names], osp.basename(osp.normpath(path)),
                           sequence)
    if not osp.isfile(path):
        raise ValueError(f'{path}: no such image, folder, video file or webcam index')
    if path.lower().endswith(VIDEO_EXTENSIONS):
        return _video(path)
    return _image_list([path], osp.splitext(osp.basename(path))[0])


def _as_box(box, name: str) -> Optional[np.ndarray]:
    if box is None:
        return None
    box = np.asarray(box, np.float64).reshape(-1)
    if box.shape != (4, ) or not np.isfinite(box).all() or (box[2:] <= box[:2]).any():
        raise ValueError(f'{name}: expected x1 y1 x2 y2 in pixels with x2 > x1 and y2 > y1, '
                         f'got {box.tolist()}')
    return box


def _rounded(values, digits: int) -> list:
    return np.round(np.asarray(values, np.float64), digits).tolist()


@INFERENCERS.register_module()
class HandObjectInferencer:
    """Hand and object pose of every frame of images, folders, videos or a webcam.

    Args:
        model: A config file or a model name of ``docs/model_zoo.md`` (:data:`MODEL_ZOO`).
        weights: Checkpoint of the model (None: random weights, for tests only).
        det_model: Detector config (``configs/det/``) or model-zoo name; needed when boxes are
            not given per call.
        det_weights: Detector checkpoint.
        device: Torch device (default ``'cpu'``).
        obj_model_root: Folder with ``<obj_name>/points.xyz`` (and ``textured_simple.obj`` for
            meshes); defaults to the config's test dataset ``<data_root>/models``.
    """

    def __init__(self, model: Union[str, Path], weights: Optional[str] = None,
                 det_model: Optional[Union[str, Path]] = None,
                 det_weights: Optional[str] = None, device: Optional[str] = None,
                 obj_model_root: Optional[str] = None) -> None:
        self.device = device or 'cpu'
        config = resolve_config(model)
        if str(Config.fromfile(config).get('model', {}).get('type', '')).endswith(DETECTOR_TYPE):
            raise ValueError(f'{config} is a detector config; give the HFL-Net config as model '
                             'and the detector config as det_model')
        self.model = init_model(config, weights, device=self.device, optimize=True)
        apply_process_settings(self.model.cfg)  # as ProcessSettingsHook does in the tools
        self.detector = None
        if det_model is not None:
            self.detector = init_detector(resolve_config(det_model), det_weights,
                                          device=self.device)
        self.objects = ObjectModelCache(obj_model_root or default_obj_model_root(self.model.cfg))
        self.mano_faces = find_mano_layer(self.model)
        self.visualizer = HandObjectVisualizer(name=f'inferencer_{id(self)}',
                                               mano_faces=self.mano_faces)

    # ------------------------------------------------------------------ call
    def __call__(self, inputs: Any, hand_bbox=None, obj_bbox=None, obj_name: Optional[str] = None,
                 cam_intr=None, hand_side: Optional[str] = None, root_joint=None,
                 out_dir: Optional[str] = None, show: bool = False, return_vis: bool = False,
                 batch_size: int = 8, smooth: bool = False, det_interval: int = 1,
                 det_score_thr: float = 0.3, track_iou: float = 0.3,
                 obj_selection: str = 'score', sequence: bool = False,
                 vis_out_file: Optional[str] = None, pred_out_file: Optional[str] = None,
                 max_frames: Optional[int] = None, progress: bool = True,
                 mesh_formats: Sequence[str] = ('ply', 'glb'),
                 profile: bool = False) -> Iterator[Dict[str, Any]]:
        """Yield one result dict per frame, in input order.

        Args:
            inputs: Image path, ``(H, W, 3)`` uint8 BGR array, list of those, folder of images,
                video file, webcam index, or a :class:`FrameSource` from :func:`open_inputs`.
            hand_bbox, obj_bbox: Boxes x1 y1 x2 y2 in pixels of the frames, used for every
                frame; a box not given comes from the detector.
            obj_name: Object name (folder under ``obj_model_root``); default: detected.
            cam_intr: ``fx fy cx cy`` (pixels) or a 3x3 matrix; default ``fx = fy = max(W, H)``,
                principal point at the centre (the object distance then depends on the guess).
            hand_side: ``'right'`` or ``'left'``; default: detected, else right.
            root_joint: Wrist position in the camera (metres, 3 values) used instead of the
                solved one for every frame.
            out_dir: Write ``predictions/`` (JSON per image; JSON lines per video, first line
                ``{"header": {units, camera, fps}}``), ``visualizations/`` (overlays; MP4 for a
                video) and ``meshes/`` (per frame, hand and object in the camera frame).
            show: Show each overlay in a window.
            return_vis: Add the RGB overlay (``(H, W, 3)`` uint8) as ``"visualization"``.
            batch_size: Frames per network pass.
            smooth: One-Euro smoothing of the hand and the object over frames (reset when the
                track is lost).
            det_interval: Run the detector every k frames; in between the boxes are kept.
            det_score_thr: Minimum detection score.
            track_iou: IoU with the current track for a detection to continue it.
            obj_selection: Object of a new track: ``'score'`` (highest score) or
                ``'nearest_hand'`` (nearest the hand).
            sequence: Read a folder or list as one video (see :func:`open_inputs`).
            vis_out_file: For one image or one sequence: the overlay picture or MP4 goes here
                instead of ``out_dir/visualizations/``.
            pred_out_file: For one sequence: the JSON-lines file goes here instead of
                ``out_dir/predictions/``.
            max_frames: Stop after this many frames.
            progress: Show a progress bar on folders and videos.
            mesh_formats: Mesh files per frame: ``'ply'`` and/or ``'glb'`` (needs trimesh).
            profile: Add ``timing_s``: seconds spent on this frame per stage, ``decode``,
                ``detect``, ``hfl`` (crop pipeline, network, PnP and root solve of
                :func:`inference_handobj`, shared evenly by the frames of a batch),
                ``record`` (smoothing, JSON fields), ``mesh``, ``draw`` and ``encode``
                (MP4/PNG/JSON writing).

        Yields:
            dict: ``frame`` (0-based), ``name``, ``time_s``, ``status`` (``ok`` | ``hand_only``
            (no usable object model: ``obj_issue`` says why) | ``no_detection`` |
            ``unreadable``), ``hand_box_px``, ``obj_box_px``, ``hand_side``, ``obj_name``,
            ``hand_score``, ``obj_score`` (None for given boxes), ``hand_joints_mm`` (21 x 3),
            ``hand_root_m`` (3, given or solved; None when no root fits),
            ``hand_joints2d_px`` (21 x 2), ``obj_rot`` (3 x 3), ``obj_trans_m`` (3),
            ``obj_kps2d_px`` (21 x 2), ``mesh_files`` (paths written) — units in
            :data:`UNITS`.

        Raises:
            ValueError: Bad arguments or inputs (named), a frame of a sequence whose size
                differs from the first one's.
        """
        if batch_size < 1 or det_interval < 1:
            raise ValueError(f'batch_size and det_interval must be >= 1, got {batch_size} and '
                             f'{det_interval}')
        if hand_side not in (None, 'right', 'left'):
            raise ValueError(f"hand_side: expected 'right' or 'left', got {hand_side!r}")
        given = dict(hand=_as_box(hand_bbox, 'hand_bbox'), obj=_as_box(obj_bbox, 'obj_bbox'))
        if self.detector is None and (given['hand'] is None or given['obj'] is None):
            raise ValueError('give hand_bbox and obj_bbox, or build the inferencer with a '
                             'detector (det_model, det_weights; configs/det/)')
        root = None if root_joint is None else np.asarray(root_joint, np.float64).reshape(3)
        source = open_inputs(inputs, sequence)
        run = _Run(self, source, given, obj_name, cam_intr, hand_side, root, out_dir, show,
                   return_vis, smooth, det_interval, BoxTracker(det_score_thr, track_iou,
                                                               obj_selection),
                   mesh_formats, vis_out_file, pred_out_file, profile)
        total = source.total if max_frames is None else min(source.total or max_frames,
                                                           max_frames)
        bar = ProgressBar(total or 0) if progress and (source.is_video or (total or 0) > 1) \
            else None
        batch: List[Frame] = []
        frames = iter(source.frames)
        try:
            while True:
                start = time.perf_counter()
                frame = next(frames, None)
                if frame is None or (max_frames is not None and frame[0] >= max_frames):
                    break
                run.clock(frame[0], 'decode', start)
                batch.append(frame)
                if len(batch) == batch_size:
                    yield from run.process(batch, bar)
                    batch = []
            if batch:
                yield from run.process(batch, bar)
        finally:
            run.close()


class _Run:
    """The per-call state of :meth:`HandObjectInferencer.__call__` (tracker, smoother,
    writers)."""

    def __init__(self, inferencer: HandObjectInferencer, source: FrameSource, given: dict,
                 obj_name, cam_intr, hand_side, root, out_dir, show, return_vis, smooth,
                 det_interval, tracker, mesh_formats, vis_out_file, pred_out_file,
                 profile) -> None:
        self.inf, self.source, self.given = inferencer, source, given
        self.obj_name, self.cam_intr, self.hand_side, self.root = (obj_name, cam_intr,
                                                                   hand_side, root)
        self.out_dir, self.show, self.return_vis = out_dir, show, return_vis
        self.det_interval = det_interval
        self.tracker = tracker
        self.vis_out_file, self.pred_out_file = vis_out_file, pred_out_file
        #: Frame index -> stage -> seconds (with ``profile``).
        self.timings: Optional[Dict[int, Dict[str, float]]] = (defaultdict(dict) if profile
                                                               else None)
        self.frame_size: Optional[Tuple[int, int]] = None
        self.smoother = HandObjectSmoother(source.fps) if smooth else None
        unknown = set(mesh_formats) - {'ply', 'glb'}
        if unknown:
            raise ValueError(f'mesh_formats: expected "ply" and/or "glb", got {sorted(unknown)}')
        self.mesh_formats = tuple(mesh_formats)
        self.jsonl = None
        self.writer = None
        self.sizes_said = set()
        #: ``fx fy cx cy`` of the latest frame (the camera of a sequence's header).
        self.camera: Optional[List[float]] = None

    # ------------------------------------------------------------------ per frame
    def clock(self, index: int, stage: str, start: float) -> None:
        """Add the seconds since ``start`` (``time.perf_counter``) to a stage of a frame."""
        if self.timings is not None:
            self.add_time(index, stage, time.perf_counter() - start)

    def add_time(self, index: int, stage: str, seconds: float) -> None:
        """Add ``seconds`` to a stage of a frame (with ``profile``)."""
        if self.timings is not None:
            self.timings[index][stage] = self.timings[index].get(stage, 0.0) + seconds

    def _camera(self, image: np.ndarray) -> List[float]:
        """``fx fy cx cy`` (pixels) of a frame: given, else assumed from its size (said once
        per size). A sequence's frames must share the first frame's size."""
        height, width = image.shape[:2]
        if self.source.is_video:
            if self.frame_size is None:
                self.frame_size = (width, height)
            elif self.frame_size != (width, height):
                raise ValueError(f'{self.source.name}: frame is {width} x {height} pixels, the '
                                 f'first was {self.frame_size[0]} x {self.frame_size[1]}; all '
                                 'frames of a sequence must share one size (one camera)')
        if self.cam_intr is not None:
            fx, fy, cx, cy = as_intrinsics(self.cam_intr, 1)[0][[0, 1, 0, 1], [0, 1, 2, 2]]
            return [float(fx), float(fy), float(cx), float(cy)]
        assumed = [float(v) for v in default_intrinsics(width, height)]
        if (width, height) not in self.sizes_said:
            self.sizes_said.add((width, height))
            print_log(f'no cam_intr: assuming fx = fy = {assumed[0]:.1f} px, principal point at '
                      f'the centre of the {width} x {height} frames; the object distance depends '
                      'on this guess', logger='current', level=logging.WARNING)
        return assumed

    def _boxes(self, index: int, image: np.ndarray) -> Optional[dict]:
        """Boxes, scores, hand side and object name of one frame; None without a detection.

        A side or name comes from the detector only for a box that came from it."""
        found = dict(hand=None, obj=None)
        if self.given['hand'] is None or self.given['obj'] is None:
            if index % self.det_interval == 0 or not self.tracker.complete:
                start = time.perf_counter()
                self.tracker.update(detect_hand_object(self.inf.detector, [image])[0])
                self.clock(index, 'detect', start)
            if self.given['hand'] is None and self.tracker.hand is None or (
                    self.given['obj'] is None and self.tracker.obj is None):
                return None
            found = dict(hand=self.tracker.hand if self.given['hand'] is None else None,
                         obj=self.tracker.obj if self.given['obj'] is None else None)
        rec = dict(hand_box=self.given['hand'], obj_box=self.given['obj'], hand_score=None,
                   obj_score=None, hand_side=self.hand_side, obj_name=self.obj_name)
        for key in ('hand', 'obj'):
            if found[key] is not None:
                rec[f'{key}_box'] = found[key]['bbox']
                rec[f'{key}_score'] = found[key]['score']
        if rec['hand_side'] is None:
            rec['hand_side'] = (category_side_or_name(found['hand']['category_id'])[1]
                                if found['hand'] is not None else 'right')
        if rec['obj_name'] is None and found['obj'] is not None:
            rec['obj_name'] = category_side_or_name(found['obj']['category_id'])[1]
        rec['obj_issue'] = self.inf.objects.issue(rec['obj_name'])
        return rec

    def process(self, batch: List[Frame], bar: Optional[ProgressBar]) -> Iterator[dict]:
        """Results of one batch of frames, in order (the network runs once per batch)."""
        plans, cams = [], []
        for index, _, image in batch:
            cam = None if image is None else self._camera(image)
            cams.append(cam)
            plans.append(None if image is None else self._boxes(index, image))
        todo = [i for i, plan in enumerate(plans) if plan is not None]
        samples = {}
        if todo:
            start = time.perf_counter()
            out = inference_handobj(
                self.inf.model, [batch[i][2] for i in todo],
                [plans[i]['hand_box'] for i in todo], [plans[i]['obj_box'] for i in todo],
                np.array([cams[i] for i in todo]),
                obj_name=[None if plans[i]['obj_issue'] else plans[i]['obj_name']
                          for i in todo],
                obj_model_root=self.inf.objects.bank,
                hand_side=[plans[i]['hand_side'] for i in todo], root_joint=(
                    None if self.root is None else np.tile(self.root, (len(todo), 1))))
            spent = (time.perf_counter() - start) / len(todo)
            for i in todo:
                self.add_time(batch[i][0], 'hfl', spent)
            samples = dict(zip(todo, out))
        for i, (index, name, image) in enumerate(batch):
            rec = dict(frame=index, name=name, time_s=round(index / self.source.fps, 4))
            if cams[i] is not None:
                self.camera = cams[i]
            if image is None:
                rec['status'] = 'unreadable'
                if self.smoother is not None:
                    self.smoother.reset()
            elif i not in samples:
                rec['status'] = 'no_detection'
                if self.smoother is not None:
                    self.smoother.reset()
            else:
                start = time.perf_counter()
                fields, mesh_parts = self._record(plans[i], samples[i])
                rec.update(fields)
                self.clock(index, 'record', start)
                start = time.perf_counter()
                rec['mesh_files'] = self._write_meshes(rec, mesh_parts)
                self.clock(index, 'mesh', start)
            vis = None if image is None else self._visualize(rec, image, samples.get(i))
            if image is None and self.source.is_video:
                self._write_prediction(rec)  # the result line of a skipped frame
            if self.return_vis and vis is not None:
                rec['visualization'] = vis
            if self.timings is not None:
                rec['timing_s'] = self.timings.pop(index, {})
            if bar is not None:
                bar.update()
            yield rec

    def _record(self, plan: dict, sample) -> Tuple[dict, list]:
        """The JSON fields of a predicted frame and its mesh parts (camera frame, metres)."""
        pred = sample.pred_instances
        flip = bool(sample.metainfo['flip'])
        joints = np.asarray(pred.hand_joints3d[0], np.float64)
        verts = np.asarray(pred.hand_verts3d[0], np.float64)
        if flip:
            joints, verts = mirror_points_3d(joints), mirror_points_3d(verts)
        root = self.root if self.root is not None else np.asarray(pred.hand_root[0], np.float64)
        values = dict(hand_joints3d=joints, hand_verts3d=verts,
                      hand_joints2d_img=np.asarray(pred.hand_joints2d_img[0], np.float64))
        has_obj = plan['obj_issue'] is None and 'obj_rot' in pred
        if has_obj:
            values.update(obj_rot=np.asarray(pred.obj_rot[0], np.float64),
                          obj_trans=np.asarray(pred.obj_trans[0], np.float64))
        elif self.smoother is not None:
            self.smoother.reset(HandObjectSmoother.OBJECT_KEYS)
        if self.smoother is not None:
            values = self.smoother(values)
        # The drawing and the meshes show what the record says.
        pred.hand_joints2d_img = values['hand_joints2d_img'][None].astype(np.float32)
        if has_obj:
            pred.obj_rot = values['obj_rot'][None]
            pred.obj_trans = values['obj_trans'][None]
        root_ok = bool(np.isfinite(root).all())
        rec = dict(status='ok' if has_obj else 'hand_only',
                   hand_box_px=_rounded(plan['hand_box'], 2),
                   obj_box_px=_rounded(plan['obj_box'], 2), hand_side=plan['hand_side'],
                   obj_name=plan['obj_name'], hand_score=plan['hand_score'],
                   obj_score=plan['obj_score'],
                   hand_joints_mm=_rounded(values['hand_joints3d'] * 1000, 2),
                   hand_root_m=_rounded(root, 5) if root_ok else None,
                   hand_joints2d_px=_rounded(values['hand_joints2d_img'], 2),
                   obj_rot=_rounded(values['obj_rot'], 6) if has_obj else None,
                   obj_trans_m=_rounded(values['obj_trans'], 5) if has_obj else None,
                   obj_kps2d_px=_rounded(pred.obj_kps2d_img[0], 2))
        if plan['obj_issue'] is not None:
            rec['obj_issue'] = plan['obj_issue']
        mesh_parts = []
        if root_ok and self.inf.mano_faces is not None:
            faces = self.inf.mano_faces.faces
            faces = faces.detach().cpu().numpy() if hasattr(faces, 'detach') else faces
            mesh_parts.append((values['hand_verts3d'] + root, np.asarray(faces), HAND_RGB))
        if has_obj:
            mesh = self.inf.objects.mesh(plan['obj_name'])
            if mesh is not None:
                mesh_parts.append((mesh[0] @ values['obj_rot'].T + values['obj_trans'], mesh[1],
                                   OBJECT_RGB))
        return rec, mesh_parts

    # ------------------------------------------------------------------ outputs
    def _stem(self, rec: dict) -> str:
        return (f'{self.source.name}_{rec["frame"]:06d}' if self.source.is_video
                else rec['name'])

    def _write_meshes(self, rec: dict, parts: list) -> List[str]:
        if self.out_dir is None or not parts:
            return []
        paths = []
        for fmt in self.mesh_formats:
            path = osp.join(self.out_dir, 'meshes', f'{self._stem(rec)}.{fmt}')
            (write_ply if fmt == 'ply' else write_glb)(path, parts)
            paths.append(path)
        return paths

    def _visualize(self, rec: dict, image: np.ndarray, sample) -> Optional[np.ndarray]:
        need = self.show or self.return_vis or self.out_dir is not None or self.vis_out_file
        if not need:
            self._write_prediction(rec)
            return None
        start = time.perf_counter()
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        out_file = None
        if not self.source.is_video:
            out_file = self.vis_out_file or (None if self.out_dir is None else osp.join(
                self.out_dir, 'visualizations', f'{rec["name"]}.png'))
        vis = self.inf.visualizer.add_datasample(
            rec['name'], rgb, sample, draw_gt=False, show=self.show, wait_time=0.001,
            out_file=out_file) if sample is not None else rgb
        self.clock(rec['frame'], 'draw', start)
        start = time.perf_counter()
        if self.source.is_video and (self.out_dir is not None or self.vis_out_file):
            self._video_writer(image).write(cv2.cvtColor(vis, cv2.COLOR_RGB2BGR))
        self._write_prediction(rec)
        self.clock(rec['frame'], 'encode', start)
        return vis

    def _video_writer(self, image: np.ndarray):
        if self.writer is None:
            path = self.vis_out_file or osp.join(self.out_dir, 'visualizations',
                                                 f'{self.source.name}.mp4')
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            height, width = image.shape[:2]
            self.writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'),
                                          self.source.fps, (width, height))
            if not self.writer.isOpened():
                raise OSError(f'{path}: OpenCV cannot write an MP4 here')
        return self.writer

    def _write_prediction(self, rec: dict) -> None:
        if self.source.is_video and self.pred_out_file:
            path = self.pred_out_file
        elif self.out_dir is None:
            return
        else:
            folder = osp.join(self.out_dir, 'predictions')
            path = osp.join(folder, f'{self.source.name}.jsonl')
            if not self.source.is_video:
                os.makedirs(folder, exist_ok=True)
                with open(osp.join(folder, f'{rec["name"]}.json'), 'w') as f:
                    json.dump(dict(units=UNITS, camera=self._camera_dict(), **rec), f)
                return
        if self.jsonl is None:
            os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
            self.jsonl = open(path, 'w')
            header = dict(fps=self.source.fps, frames='0-based index in the input order',
                          camera=self._camera_dict(), units=UNITS)
            self.jsonl.write(json.dumps(dict(header=header)) + '\n')
        self.jsonl.write(json.dumps(rec) + '\n')

    def _camera_dict(self) -> Optional[dict]:
        if self.camera is None:
            return None
        return dict(zip(('fx', 'fy', 'cx', 'cy'), self.camera))

    def close(self) -> None:
        if self.jsonl is not None:
            self.jsonl.close()
        if self.writer is not None:
            self.writer.release()
