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
base to tip) in millimetres RELATIVE TO THE WRIST, in the camera's axes (HFL-Net does not
predict the wrist's position in the camera; pass --root to place the hand), and the object pose
(rotation and translation, object model -> camera, metres).

Writes a picture with the hand skeleton, the hand mesh (placed at --root, or else at the
translation that best fits its joints to the predicted 2D skeleton, for display only), the
object's 3D box and the two input boxes.

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
import sys
from typing import Optional

import cv2
import numpy as np

from mmhandobj.apis import inference_handobj, init_model
from mmhandobj.apis.detection import (
    choose_boxes,
    default_intrinsics,
    detect_hand_object,
    init_detector,
)
from mmhandobj.apis.inference import default_obj_model_root
from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.datasets.transforms import read_image
from mmhandobj.engine import apply_process_settings
from mmhandobj.evaluation.functional import root_relative_to_camera
from mmhandobj.structures.detection_classes import DET_CATEGORIES
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite
from mmhandobj.visualization import HandObjectVisualizer, find_mano_layer

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


def find_boxes(args: argparse.Namespace, image: np.ndarray) -> dict:
    """Boxes, hand side and object name: given on the command line, else detected."""
    found = dict(hand_bbox=args.hand_bbox, obj_bbox=args.obj_bbox, obj_name=args.obj_name,
                 hand_side=args.hand_side)
    if args.hand_bbox is None or args.obj_bbox is None:
        if not (args.det_config and args.det_checkpoint):
            raise SystemExit('give --hand-bbox and --obj-bbox, or a detector with --det-config '
                             'and --det-checkpoint (configs/det/)')
        try:
            detector = init_detector(args.det_config, args.det_checkpoint, device=args.device)
        except ValueError as err:
            raise SystemExit(f'--det-config: {err}') from None
        dets = detect_hand_object(detector, [image])[0]
        known = [d for d in dets if int(d['category_id']) in DET_CATEGORIES]
        if len(known) < len(dets):
            print(f'warning: {len(dets) - len(known)} detections of unknown category ids '
                  f'{sorted({int(d["category_id"]) for d in dets} - set(DET_CATEGORIES))} '
                  f'ignored (known: 1..{len(DET_CATEGORIES)})', file=sys.stderr)
        dets = known
        hand, obj, side, name = choose_boxes(dets, args.det_score_thr, args.obj_selection)
        for kind, det, key in (('hand', hand, 'hand_bbox'), ('object', obj, 'obj_bbox')):
            if found[key] is not None:
                continue
            if det is None:
                raise SystemExit(f'no {kind} detected with a score >= {args.det_score_thr} in '
                                 f'{args.img}; give --{key.replace("_", "-")} or lower '
                                 '--det-score-thr')
            found[key] = det['bbox'].tolist()
            print(f'detected {kind}: box ' + ' '.join(f'{v:.1f}' for v in det['bbox']) +
                  f' ({side if kind == "hand" else name}, score {det["score"]:.2f})')
        if found['obj_name'] is None and obj is not None and args.obj_bbox is None:
            found['obj_name'] = name
        if found['hand_side'] is None and hand is not None and args.hand_bbox is None:
            found['hand_side'] = side
    found['hand_side'] = found['hand_side'] or 'right'
    return found


def usable_object_name(name: Optional[str], model_root: Optional[str]) -> Optional[str]:
    """``name`` when ``<model_root>/<name>/points.xyz`` is readable; else None, said on stderr
    (the hand is still estimated, the object pose is not)."""
    if name is None:
        return None
    if model_root is None:
        issue = 'no object models folder (give --obj-model-root)'
    else:
        try:
            ObjectModelBank(model_root).points(name)
            return name
        except (KeyError, ValueError, OSError) as err:
            issue = err.args[0] if isinstance(err, KeyError) else str(err)
    print(f'warning: object {name!r}: {issue}; estimating the hand only', file=sys.stderr)
    return None


def main() -> None:
    args = parse_args()
    try:
        refuse_overwrite([args.img, args.config, args.checkpoint, args.det_config,
                          args.det_checkpoint], [args.out])
    except OverwriteError as err:
        raise SystemExit(f'error: {err}') from None
    image = read_image(args.img)
    found = find_boxes(args, image)
    cam_intr = args.cam_intr
    if cam_intr is None:
        cam_intr = default_intrinsics(image.shape[1], image.shape[0])
        fx, _, cx, cy = cam_intr
        print(f'no --cam-intr: assuming fx = fy = {fx:.1f}, cx = {cx:.1f}, cy = {cy:.1f} px; '
              'the object distance depends on this guess')
    model = init_model(args.config, args.checkpoint, device=args.device, optimize=True)
    apply_process_settings(model.cfg)  # as ProcessSettingsHook does in the tools
    found['obj_name'] = usable_object_name(found['obj_name'],
                                           args.obj_model_root or default_obj_model_root(model.cfg))
    try:
        sample = inference_handobj(
            model, image, found['hand_bbox'], found['obj_bbox'], cam_intr,
            obj_name=found['obj_name'], obj_model_root=args.obj_model_root,
            hand_side=found['hand_side'], root_joint=args.root)
    except ValueError as err:  # bad inputs (boxes, intrinsics): say which, without a traceback
        raise SystemExit(f'error: {err}') from None
    except KeyError as err:
        raise SystemExit(f'object {found["obj_name"]!r}: {err.args[0]}') from None
    pred = sample.pred_instances
    flip = bool(sample.metainfo['flip'])
    joints = root_relative_to_camera(pred.hand_joints3d, np.zeros((1, 3)), [flip])[0] * 1000

    print('hand joints, mm, relative to the wrist (camera axes):')
    for name, (x, y, z) in zip(JOINT_NAMES, joints):
        print(f'  {name:9s} {x:9.2f} {y:9.2f} {z:9.2f}')
    if args.root is not None:
        print('wrist in the camera (mm): ' + ' '.join(f'{v:.2f}' for v in
                                                    np.asarray(args.root) * 1000))
    if 'obj_rot' in pred:
        print('object pose (object model -> camera):')
        for row in np.asarray(pred.obj_rot[0]):
            print('  R ' + ' '.join(f'{v:9.5f}' for v in row))
        print('  t (m) ' + ' '.join(f'{v:.4f}' for v in np.asarray(pred.obj_trans[0])))
    else:
        print('object pose: not estimated (no object name, or no model file for it)')

    visualizer = HandObjectVisualizer(name='image_demo', mano_faces=find_mano_layer(model))
    visualizer.add_datasample('image_demo', cv2.cvtColor(image, cv2.COLOR_BGR2RGB), sample,
                              draw_gt=False, out_file=args.out)
    print(f'picture written to {args.out}')


if __name__ == '__main__':
    main()
