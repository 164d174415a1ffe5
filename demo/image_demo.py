"""Estimate the 3D hand and object pose in one image and draw the result.

HFL-Net needs the hand box, the object box (pixels of the image, x1 y1 x2 y2), the camera
intrinsics and the object's identity: its 3D box keypoints are computed from
<obj-model-root>/<obj-name>/points.xyz (one "x y z" line per point, metres), and the object pose
is solved by PnP against them (an object without a readable model file is named on stderr and
only the hand is estimated). With --det-config/--det-checkpoint (a configs/det/ detector) the
boxes, the hand side and the object's name come from the detector (the highest-scoring hand;
the highest-scoring object, or with --obj-selection nearest_hand the one nearest the hand);
--hand-bbox, --obj-bbox, --obj-name and --hand-side still override what it found. Without
--cam-intr the camera is assumed to have fx = fy = max(W, H) and its principal point at the
image centre: the object's estimated DISTANCE then depends on that guess.

Prints the 21 hand joints (simple order: wrist, then thumb, index, middle, ring and pinky from
base to tip) in millimetres RELATIVE TO THE WRIST, in the camera's axes, the wrist in the camera
(--root, or else the translation that best fits the joints to the predicted 2D skeleton with
the intrinsics) and the object pose (rotation and translation, object model -> camera, metres).

Writes a picture (through HandObjectVisualizer) with the hand skeleton, the hand mesh at that
wrist, the object's 3D box and the two boxes. This is a command line over
mmhandobj.apis.HandObjectInferencer (docs/user_guides/inference.md), which also reads
folders, videos and webcams and writes predictions and meshes.

Examples (a frame of the quick-start synthetic world; with a detector, no boxes:
    python demo/image_demo.py data/synthetic/ho3d/train/SM3/rgb/0000.png \\
        configs/hfl/hfl_r18_synthetic.py work_dirs/hfl_r18_synthetic/epoch_10.pth \\
        --det-config configs/det/fcos_mbv3s_synthetic.py \\
        --det-checkpoint work_dirs/fcos_mbv3s_synthetic/epoch_24.pth --out vis.jpg
given boxes; the boxes are in pixels of that image and
the intrinsics come from the frame's meta/<FRAME>.pkl "camMat"):
    python demo/image_demo.py data/synthetic/ho3d/train/<SEQ>/rgb/<FRAME>.png \\
        configs/hfl/hfl_r18_synthetic.py work_dirs/hfl_r18_synthetic/epoch_10.pth \\
        --hand-bbox 262 161 358 320 --obj-bbox 183 160 396 320 \\
        --obj-name 006_mustard_bottle --obj-model-root data/synthetic/ho3d/models \\
        --cam-intr 614.6 614.0 312.4 236.1 --out vis.jpg
"""
import argparse
import os.path as osp
import sys

import numpy as np

from mmhandobj.apis import HandObjectInferencer
from mmhandobj.apis.detection import default_intrinsics
from mmhandobj.datasets.transforms import read_image
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite

FINGERS = ('thumb', 'index', 'middle', 'ring', 'pinky')
JOINT_NAMES = ['wrist'] + [f'{finger}_{i}' for finger in FINGERS for i in range(1, 5)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('img', help='input image (any format OpenCV reads)')
    parser.add_argument('config', help='model config file, e.g. configs/hfl/hfl_r50_ho3d.py')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--hand-bbox', type=float, nargs=4, metavar=('X1', 'Y1', 'X2', 'Y2'),
                        help='hand box, image pixels (default: detected)')
    parser.add_argument('--obj-bbox', type=float, nargs=4, metavar=('X1', 'Y1', 'X2', 'Y2'),
                        help='object box, image pixels (default: detected)')
    parser.add_argument('--det-config', help='hand/object detector config (configs/det/...), '
                        'needed when a box is not given')
    parser.add_argument('--det-checkpoint', help='detector checkpoint (.pth)')
    parser.add_argument('--det-score-thr', type=float, default=0.3,
                        help='minimum detection score (default: 0.3)')
    parser.add_argument('--obj-selection', choices=['score', 'nearest_hand'], default='score',
                        help='which detected object: highest score or nearest the hand')
    parser.add_argument('--cam-intr', type=float, nargs=4, metavar=('FX', 'FY', 'CX', 'CY'),
                        help='camera intrinsics of the image, pixels (default: fx = fy = '
                        'max(W, H), principal point at the centre; the object distance then '
                        'depends on that guess)')
    parser.add_argument('--obj-name', help='object name, the folder of its points.xyz under '
                        '--obj-model-root (e.g. a YCB name such as 006_mustard_bottle); '
                        'without it the object pose is not estimated')
    parser.add_argument('--obj-model-root', help='folder with <obj-name>/points.xyz '
                        "(default: the config's test dataset models folder)")
    parser.add_argument('--hand-side', choices=['right', 'left'],
                        help='which hand it is (default: detected, else right); a left hand '
                        'is mirrored like in training')
    parser.add_argument('--root', type=float, nargs=3, metavar=('X', 'Y', 'Z'),
                        help='wrist position in the camera (metres, OpenCV axes: x right, '
                        'y down, z forward) to place the hand in 3D')
    parser.add_argument('--out', default='vis.jpg', help='output picture (default: vis.jpg)')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cpu or cuda:0')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        refuse_overwrite([args.img, args.config, args.checkpoint, args.det_config,
                          args.det_checkpoint], [args.out])
    except OverwriteError as err:
        raise SystemExit(f'error: {err}') from None
    detect = args.hand_bbox is None or args.obj_bbox is None
    if detect and not (args.det_config and args.det_checkpoint):
        raise SystemExit('give --hand-bbox and --obj-bbox, or a detector with --det-config '
                         'and --det-checkpoint (configs/det/)')
    try:
        image = read_image(args.img)
        if args.cam_intr is None:
            fx, _, cx, cy = default_intrinsics(image.shape[1], image.shape[0])
            print(f'no --cam-intr: assuming fx = fy = {fx:.1f}, cx = {cx:.1f}, cy = {cy:.1f} px; '
                  'the object distance depends on this guess')
        inferencer = HandObjectInferencer(
            args.config, args.checkpoint, args.det_config if detect else None,
            args.det_checkpoint if detect else None, args.device, args.obj_model_root)
        rec = next(inferencer(
            image, args.hand_bbox, args.obj_bbox, args.obj_name, args.cam_intr, args.hand_side,
            root_joint=args.root, det_score_thr=args.det_score_thr,
            obj_selection=args.obj_selection, vis_out_file=args.out, progress=False))
    except (OSError, ValueError) as err:  # bad inputs: say which, without a traceback
        raise SystemExit(f'error: {err}') from None
    if rec['status'] == 'no_detection':
        missing = [f'--{k}' for k in ('hand-bbox', 'obj-bbox')
                   if getattr(args, k.replace('-', '_')) is None]
        raise SystemExit(f'no hand and object detected with a score >= {args.det_score_thr} in '
                         f'{args.img}; give {" and ".join(missing)} or lower --det-score-thr')
    for kind, key, label in (('hand', 'hand', 'hand_side'), ('object', 'obj', 'obj_name')):
        if rec[f'{key}_score'] is not None:
            print(f'detected {kind}: box ' + ' '.join(f'{v:.1f}' for v in rec[f'{key}_box_px'])
                  + f' ({rec[label]}, score {rec[f"{key}_score"]:.2f})')
    if rec.get('obj_issue'):
        print(f'warning: {rec["obj_issue"]}; estimating the hand only', file=sys.stderr)
    print('hand joints, mm, relative to the wrist (camera axes):')
    for name, (x, y, z) in zip(JOINT_NAMES, rec['hand_joints_mm']):
        print(f'  {name:9s} {x:9.2f} {y:9.2f} {z:9.2f}')
    if rec['hand_root_m'] is not None:
        origin = 'given' if args.root is not None else 'solved from the 2D joints'
        print(f'wrist in the camera (mm, {origin}): ' +
              ' '.join(f'{v:.2f}' for v in np.asarray(rec['hand_root_m']) * 1000))
    if rec['obj_rot'] is not None:
        print('object pose (object model -> camera):')
        for row in rec['obj_rot']:
            print('  R ' + ' '.join(f'{v:9.5f}' for v in row))
        print('  t (m) ' + ' '.join(f'{v:.4f}' for v in rec['obj_trans_m']))
    else:
        print('object pose: not estimated (no object name, or no model file for it)')
    print(f'picture written to {osp.abspath(args.out)}')


if __name__ == '__main__':
    main()
