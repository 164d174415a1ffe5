"""Estimate the 3D hand and object pose in every frame of a video and draw the track.

Input: a video file (any format OpenCV reads), a folder of frames (read in name order) or a
webcam index (e.g. 0). The hand/object detector (--det-config/--det-checkpoint, configs/det/)
runs every --det-interval frames; in between, and when a detection frame finds nothing, the
previous boxes are kept; on a detection frame the hand and the object are the detections that
overlap the current track best (IoU >= --track-iou), else the best-scoring ones (a new
track). HFL-Net runs batched over --batch-size frames. --smooth applies One-Euro filters to the
hand joints and the object translation and, on the rotation group, to the object rotation
(mmhandobj.apis.smoothing; reset when the track is lost).

Writes an MP4 (--out) with the boxes, the hand skeleton and the object's voted keypoints drawn
on each frame, and a JSON-lines file (--out-json, default: the MP4's name with .jsonl): a first
line {"header": ...} stating units and frames, then one line per frame: "frame" (0-based
index), "time_s", "status" ("ok" | "hand_only" | "no_detection"), "hand_box_px", "obj_box_px"
(x1 y1 x2 y2, pixels of the frame), "hand_side", "obj_name", "hand_score", "obj_score",
"hand_joints_mm" (21 x 3, wrist-relative, camera axes, simple joint order), "hand_joints2d_px"
(21 x 2), "obj_rot" (3 x 3, object model -> camera), "obj_trans_m" (3, camera frame, OpenCV
axes). "hand_only": the object has no usable model file (<obj-model-root>/<name>/points.xyz
missing or unreadable, or a detector class outside the class table); the hand is estimated,
"obj_rot" / "obj_trans_m" are null and "obj_issue" says why (also printed once per object).
Without --cam-intr the camera is assumed to have fx = fy = max(W, H), principal point at the
centre, and the object distance depends on that guess.

Example (a sequence of the quick-start synthetic world as a folder of frames):
    python demo/video_demo.py data/synthetic/ho3d/train/SM3/rgb \\
        configs/hfl/hfl_r18_synthetic.py work_dirs/hfl_r18_synthetic/epoch_10.pth \\
        --det-config configs/det/fcos_mbv3s_synthetic.py \\
        --det-checkpoint work_dirs/fcos_mbv3s_synthetic/epoch_24.pth \\
        --cam-intr 614.6 614.0 312.4 236.1 --smooth --out sm3.mp4
"""
import argparse
import json
import os
import os.path as osp
import sys
from typing import Dict, Iterator, List, Optional, Tuple

import cv2
import numpy as np
from mmengine.config import Config
from mmengine.utils import ProgressBar

from mmhandobj.apis import inference_handobj, init_model
from mmhandobj.apis.detection import (
    DETECTOR_TYPE,
    default_intrinsics,
    detect_hand_object,
    init_detector,
)
from mmhandobj.apis.inference import default_obj_model_root
from mmhandobj.apis.smoothing import HandObjectSmoother
from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.datasets.transforms import read_image
from mmhandobj.datasets.transforms.loading import image_header_size
from mmhandobj.engine import apply_process_settings
from mmhandobj.evaluation.functional import root_relative_to_camera
from mmhandobj.structures import box_iou, category_side_or_name, is_hand_category
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite
from mmhandobj.visualization.drawing import draw_skeleton

IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp')
#: Frame rate assumed for a folder of frames or a camera that reports none.
DEFAULT_FPS = 30.0
HAND_COLOR, OBJ_COLOR = (0, 200, 255), (255, 160, 0)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('video', help='video file, folder of frames, or webcam index')
    parser.add_argument('config', help='HFL-Net config file')
    parser.add_argument('checkpoint', help='HFL-Net checkpoint (.pth)')
    parser.add_argument('--det-config', required=True, help='detector config (configs/det/)')
    parser.add_argument('--det-checkpoint', required=True, help='detector checkpoint (.pth)')
    parser.add_argument('--out', default='out.mp4', help='output MP4 (default: out.mp4)')
    parser.add_argument('--out-json', help='per-frame JSON lines (default: OUT with .jsonl)')
    parser.add_argument('--det-interval', type=int, default=1,
                        help='run the detector every k frames (default: 1)')
    parser.add_argument('--det-score-thr', type=float, default=0.3, help='minimum score')
    parser.add_argument('--track-iou', type=float, default=0.3,
                        help='IoU with the track for a detection to continue it (default 0.3)')
    parser.add_argument('--batch-size', type=int, default=8, help='HFL-Net frames per batch')
    parser.add_argument('--smooth', action='store_true', help='One-Euro temporal smoothing')
    parser.add_argument('--cam-intr', type=float, nargs=4, metavar=('FX', 'FY', 'CX', 'CY'),
                        help='intrinsics, pixels (default: fx = fy = max(W, H), centre)')
    parser.add_argument('--obj-name', help='override the detected object class')
    parser.add_argument('--obj-model-root', help='folder with <obj-name>/points.xyz '
                        "(default: the config's test dataset models folder)")
    parser.add_argument('--max-frames', type=int, help='stop after this many frames')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cpu or cuda:0')
    return parser.parse_args()


def open_frames(source: str) -> Tuple[Iterator[np.ndarray], float, Optional[int]]:
    """Frames (BGR uint8), frame rate and frame count (None for a camera) of ``source``.

    Raises:
        SystemExit: Unreadable video, empty folder, or a camera that cannot be opened.
    """
    if osp.isdir(source):
        names = sorted(n for n in os.listdir(source) if n.lower().endswith(IMAGE_EXTENSIONS))
        if not names:
            raise SystemExit(f'{source}: no {"/".join(IMAGE_EXTENSIONS)} frames in the folder')
        sizes = {n: image_header_size(np.fromfile(osp.join(source, n), np.uint8, 1 << 16))
                 for n in names}
        first = sizes[names[0]]
        other = next((n for n in names if sizes[n] not in (first, None)), None)
        if other is not None and first is not None:
            raise SystemExit(f'{source}: frame {other} is {sizes[other][0]} x '
                             f'{sizes[other][1]} pixels but {names[0]} is {first[0]} x '
                             f'{first[1]}; the frames of one folder must share one size '
                             '(one camera)')
        return (read_image(osp.join(source, n)) for n in names), DEFAULT_FPS, len(names)
    is_camera = source.isdigit()
    if not is_camera and not osp.isfile(source):
        raise SystemExit(f'{source}: no such video file, frame folder or webcam index')
    cap = cv2.VideoCapture(int(source) if is_camera else source)
    ok, first = cap.read() if cap.isOpened() else (False, None)
    if not ok:
        raise SystemExit(f'{source}: cannot read a frame (unreadable video or camera; OpenCV '
                         'backend without this codec?)')
    fps = cap.get(cv2.CAP_PROP_FPS) or DEFAULT_FPS
    count = None if is_camera else int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None

    def frames() -> Iterator[np.ndarray]:
        frame = first
        while frame is not None:
            yield frame
            ok, frame = cap.read()
            frame = frame if ok else None
        cap.release()
    return frames(), float(fps), count


class BoxTracker:
    """Keeps the hand and object boxes between detections (IoU association)."""

    def __init__(self, score_thr: float, track_iou: float) -> None:
        self.score_thr, self.track_iou = score_thr, track_iou
        self.hand: Optional[dict] = None
        self.obj: Optional[dict] = None
        self.lost = 0

    def _pick(self, dets: List[dict], current: Optional[dict]) -> Optional[dict]:
        if not dets:
            return None
        if current is not None:
            ious = box_iou(current['bbox'], np.stack([d['bbox'] for d in dets]))
            if ious.max() >= self.track_iou:
                return dets[int(np.argmax(ious))]
        return max(dets, key=lambda d: d['score'])

    def update(self, dets: List[dict]) -> bool:
        """Associate one frame's detections; True when the track was (re)started."""
        kept = [d for d in dets if d['score'] >= self.score_thr]
        hand = self._pick([d for d in kept if is_hand_category(d['category_id'])], self.hand)
        obj = self._pick([d for d in kept if not is_hand_category(d['category_id'])], self.obj)
        restarted = self.hand is None or self.obj is None
        if hand is None or obj is None:
            self.lost += 1
        self.hand = hand or self.hand
        self.obj = obj or self.obj
        return restarted and self.hand is not None and self.obj is not None


class ObjectModels:
    """The object models the demo solves poses with; a missing or unknown one is said once.

    Args:
        root: Folder with ``<name>/points.xyz`` (None: no folder known).
    """

    def __init__(self, root: Optional[str]) -> None:
        self.bank = ObjectModelBank(root) if root else None
        #: Object name (or ``'category <id>'``) -> why it has no usable model.
        self.issues: Dict[str, str] = {}

    def _report(self, key: str, issue: str) -> str:
        if key not in self.issues:
            self.issues[key] = issue
            print(f'\nwarning: {issue}; drawing the hand only (no object pose) in the frames '
                  'of this object', file=sys.stderr)
        return self.issues[key]

    def name_of(self, category_id: int) -> Tuple[Optional[str], Optional[str]]:
        """``(object name, None)`` of a detected category, or ``(None, issue)``."""
        try:
            return category_side_or_name(category_id)[1], None
        except KeyError as err:
            return None, self._report(f'category {category_id}', f'detector {err.args[0]}')

    def issue(self, name: str) -> Optional[str]:
        """None when ``name`` has a readable model, else why not (said once per name)."""
        if name in self.issues:
            return self.issues[name]
        if self.bank is None:
            return self._report(name, f'object {name!r}: no object models folder (give '
                                '--obj-model-root; the config\'s test dataset has no data_root)')
        try:
            self.bank.points(name)
        except (KeyError, ValueError, OSError) as err:
            reason = err.args[0] if isinstance(err, KeyError) else str(err)
            return self._report(name, f'object {name!r}: {reason}')
        return None


def draw(frame: np.ndarray, rec: dict) -> np.ndarray:
    """Boxes, skeleton and object keypoints on a copy of ``frame``."""
    out = frame.copy()
    if rec['status'] == 'no_detection':
        cv2.putText(out, 'no detection', (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 255), 2)
        return out
    for key, color in (('hand_box_px', HAND_COLOR), ('obj_box_px', OBJ_COLOR)):
        x1, y1, x2, y2 = (int(round(v)) for v in rec[key])
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2)
    draw_skeleton(out, np.asarray(rec['hand_joints2d_px'], np.float64))
    if rec['status'] == 'hand_only':
        cv2.putText(out, 'no object model', (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                    (0, 0, 255), 2)
        return out
    for u, v in np.asarray(rec['obj_kps2d_px'])[:9]:
        cv2.circle(out, (int(round(u)), int(round(v))), 3, OBJ_COLOR, -1)
    return out


def run_batch(model, frames, boxes, cam_intr, models: ObjectModels, start: int, fps: float,
              smoother: Optional[HandObjectSmoother]) -> List[dict]:
    """HFL-Net on a batch of frames with their track boxes -> JSON records.

    ``boxes[i]`` is None (no track) or ``(hand det, object det, hand side, object name,
    object issue)``; with an issue (no usable model) the object pose is not solved.
    """
    records = [None] * len(frames)
    todo = [i for i, b in enumerate(boxes) if b is not None]
    samples = []
    if todo:
        samples = inference_handobj(
            model, [frames[i] for i in todo], [boxes[i][0]['bbox'] for i in todo],
            [boxes[i][1]['bbox'] for i in todo], cam_intr,
            obj_name=[None if boxes[i][4] else boxes[i][3] for i in todo],
            obj_model_root=models.bank.model_root if models.bank else None,
            hand_side=[boxes[i][2] for i in todo])
    by_frame = dict(zip(todo, samples))
    for i in range(len(frames)):
        rec = dict(frame=start + i, time_s=round((start + i) / fps, 4), status='no_detection')
        if i in by_frame:
            hand, obj, side, name, issue = boxes[i]
            pred = by_frame[i].pred_instances
            flip = bool(by_frame[i].metainfo['flip'])
            values = dict(
                hand_joints3d=root_relative_to_camera(pred.hand_joints3d, np.zeros((1, 3)),
                                                      [flip])[0],
                hand_joints2d=np.asarray(pred.hand_joints2d_img[0], np.float64))
            if issue is None:
                values.update(obj_rot=np.asarray(pred.obj_rot[0], np.float64),
                              obj_trans=np.asarray(pred.obj_trans[0], np.float64))
            elif smoother is not None:
                smoother.reset(HandObjectSmoother.OBJECT_KEYS)
            if smoother is not None:
                values = smoother(values)
            rec.update(status='ok' if issue is None else 'hand_only',
                       hand_box_px=hand['bbox'].tolist(),
                       obj_box_px=obj['bbox'].tolist(), hand_side=side, obj_name=name,
                       hand_score=hand['score'], obj_score=obj['score'],
                       hand_joints_mm=(values['hand_joints3d'] * 1000).round(2).tolist(),
                       hand_joints2d_px=values['hand_joints2d'].round(2).tolist(),
                       obj_rot=values['obj_rot'].round(6).tolist() if issue is None else None,
                       obj_trans_m=(values['obj_trans'].round(5).tolist() if issue is None
                                    else None),
                       obj_kps2d_px=np.asarray(pred.obj_kps2d_img[0]).round(2).tolist())
            if issue is not None:
                rec['obj_issue'] = issue
        elif smoother is not None:
            smoother.reset()
        records[i] = rec
    return records


def main() -> None:
    args = parse_args()
    if args.det_interval < 1 or args.batch_size < 1:
        raise SystemExit('--det-interval and --batch-size must be >= 1')
    out_json = args.out_json or osp.splitext(args.out)[0] + '.jsonl'
    try:
        refuse_overwrite([args.video, args.config, args.checkpoint, args.det_config,
                          args.det_checkpoint], [args.out, out_json])
    except OverwriteError as err:
        raise SystemExit(f'error: {err}') from None
    if str(Config.fromfile(args.config).get('model', {}).get('type', '')).endswith(
            DETECTOR_TYPE):
        raise SystemExit(f'{args.config} is a detector config; give the HFL-Net config as '
                         'CONFIG and the detector config with --det-config')
    frames, fps, count = open_frames(args.video)
    try:
        detector = init_detector(args.det_config, args.det_checkpoint, device=args.device)
    except ValueError as err:
        raise SystemExit(f'--det-config: {err}') from None
    model = init_model(args.config, args.checkpoint, device=args.device, optimize=True)
    apply_process_settings(model.cfg)  # as ProcessSettingsHook does in the tools
    models = ObjectModels(args.obj_model_root or default_obj_model_root(model.cfg))
    for path in (args.out, out_json):
        os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tracker = BoxTracker(args.det_score_thr, args.track_iou)
    smoother = HandObjectSmoother(fps) if args.smooth else None
    total = min(count, args.max_frames) if count and args.max_frames else (count or
                                                                          args.max_frames or 0)
    progress = ProgressBar(total)
    writer, cam_intr, done = None, args.cam_intr, 0
    height = width = None  # of the first frame, which every frame must share
    counts = dict(ok=0, hand_only=0, no_detection=0)
    with open(out_json, 'w') as jsonl:
        batch, boxes = [], []

        def flush() -> None:
            nonlocal done
            for frame, rec in zip(batch, run_batch(model, batch, boxes, cam_intr, models, done,
                                                   fps, smoother)):
                writer.write(draw(frame, rec))
                jsonl.write(json.dumps(rec) + '\n')
                counts[rec['status']] += 1
                progress.update()
            done += len(batch)
            batch.clear()
            boxes.clear()

        for index, frame in enumerate(frames):
            if args.max_frames is not None and index >= args.max_frames:
                break
            if writer is not None and frame.shape[:2] != (height, width):
                raise SystemExit(f'{args.video}: frame {index} is {frame.shape[1]} x '
                                 f'{frame.shape[0]} pixels, the first was {width} x {height}; '
                                 'all frames must share one size (one camera)')
            if writer is None:
                height, width = frame.shape[:2]
                if cam_intr is None:
                    cam_intr = default_intrinsics(width, height).tolist()
                    print(f'\nno --cam-intr: assuming fx = fy = {cam_intr[0]:.1f} px, principal '
                          'point at the centre; the object distance depends on this guess')
                writer = cv2.VideoWriter(args.out, cv2.VideoWriter_fourcc(*'mp4v'), fps,
                                         (width, height))
                if not writer.isOpened():
                    raise SystemExit(f'{args.out}: OpenCV cannot write an MP4 here')
                header = dict(fps=fps, frames='0-based index in the input order',
                              camera=dict(zip(('fx', 'fy', 'cx', 'cy'), cam_intr)),
                              units=dict(hand_joints_mm='mm, wrist-relative, camera axes',
                                         obj_trans_m='m, camera frame (OpenCV)',
                                         boxes='pixels x1 y1 x2 y2', time_s='seconds'))
                jsonl.write(json.dumps(dict(header=header)) + '\n')
            if index % args.det_interval == 0 or tracker.hand is None or tracker.obj is None:
                tracker.update(detect_hand_object(detector, [frame])[0])
            if tracker.hand is not None and tracker.obj is not None:
                side = category_side_or_name(tracker.hand['category_id'])[1]
                name, issue = ((args.obj_name, None) if args.obj_name else
                               models.name_of(tracker.obj['category_id']))
                boxes.append((tracker.hand, tracker.obj, side, name,
                              issue or models.issue(name)))
            else:
                boxes.append(None)
            batch.append(frame)
            if len(batch) == args.batch_size:
                flush()
        if batch:
            flush()
    if writer is not None:
        writer.release()
    print(f'\n{done} frames ({counts["no_detection"]} without detection, '
          f'{counts["hand_only"]} hand only: no object model) -> {args.out}, {out_json}')


if __name__ == '__main__':
    main()
