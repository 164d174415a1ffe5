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
index), "time_s", "status" ("ok" | "hand_only" | "no_detection" | "unreadable"),
"hand_box_px", "obj_box_px" (x1 y1 x2 y2, pixels of the frame), "hand_side", "obj_name",
"hand_score", "obj_score", "hand_joints_mm" (21 x 3, wrist-relative, camera axes, simple joint
order), "hand_root_m" (3, wrist in the camera, solved from the 2D joints), "hand_joints2d_px"
(21 x 2), "obj_rot" (3 x 3, object model -> camera), "obj_trans_m" (3, camera frame, OpenCV
axes), "obj_kps2d_px" (21 x 2). "hand_only": the object has no usable model file
(<obj-model-root>/<name>/points.xyz missing or unreadable); the hand is estimated, "obj_rot" /
"obj_trans_m" are null and "obj_issue" says why (also printed once per object). Detections of
classes outside the class table are ignored with a warning. The keys are documented in
docs/user_guides/inference.md; this is a command line over mmhandobj.apis.HandObjectInferencer.
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
import os.path as osp
import sys
from collections import Counter

from mmhandobj.apis import HandObjectInferencer
from mmhandobj.apis.inferencers import open_inputs
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite


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


def main() -> None:
    args = parse_args()
    if args.det_interval < 1 or args.batch_size < 1:
        raise SystemExit('--det-interval and --batch-size must be >= 1')
    out_json = args.out_json or osp.splitext(args.out)[0] + '.jsonl'
    try:
        refuse_overwrite([args.video, args.config, args.checkpoint, args.det_config,
                          args.det_checkpoint], [args.out, out_json])
        # Inputs first: a bad clip or folder stops before the models load.
        source = open_inputs(args.video, sequence=True)
        inferencer = HandObjectInferencer(args.config, args.checkpoint, args.det_config,
                                          args.det_checkpoint, args.device, args.obj_model_root)
        counts, issues = Counter(), set()
        for rec in inferencer(
                source, obj_name=args.obj_name, cam_intr=args.cam_intr,
                batch_size=args.batch_size, smooth=args.smooth, det_interval=args.det_interval,
                det_score_thr=args.det_score_thr, track_iou=args.track_iou,
                vis_out_file=args.out, pred_out_file=out_json, max_frames=args.max_frames):
            counts[rec['status']] += 1
            if rec.get('obj_issue') and rec['obj_issue'] not in issues:
                issues.add(rec['obj_issue'])
                print(f'\nwarning: {rec["obj_issue"]}; drawing the hand only (no object pose) '
                      'in the frames of this object', file=sys.stderr)
    except (OverwriteError, OSError, ValueError) as err:
        raise SystemExit(f'error: {err}') from None
    print(f'\n{sum(counts.values())} frames ({counts["no_detection"]} without detection, '
          f'{counts["hand_only"]} hand only: no object model, {counts["unreadable"]} '
          f'unreadable) -> {args.out}, {out_json}')


if __name__ == '__main__':
    main()
