"""Estimate the 3D hand and object pose in one image and draw the result.

HFL-Net needs the hand box, the object box (pixels of the image, x1 y1 x2 y2), the camera
intrinsics and the object's identity: its 3D box keypoints are computed from
<obj-model-root>/<obj-name>/points.xyz (one "x y z" line per point, metres), and the object pose
is solved by PnP against them.

Prints the 21 hand joints (simple order: wrist, then thumb, index, middle, ring and pinky from
base to tip) in millimetres RELATIVE TO THE WRIST, in the camera's axes (HFL-Net does not
predict the wrist's position in the camera; pass --root to place the hand), and the object pose
(rotation and translation, object model -> camera, metres).

Writes a picture with the hand skeleton, the hand mesh (placed at --root, or else at the
translation that best fits its joints to the predicted 2D skeleton, for display only), the
object's 3D box and the two input boxes.

Example (a frame of the quick-start synthetic world; the boxes are in pixels of that image and
the intrinsics come from the frame's meta/<FRAME>.pkl "camMat"):
    python demo/image_demo.py data/synthetic/ho3d/train/<SEQ>/rgb/<FRAME>.png \\
        configs/hfl/hfl_r18_synthetic.py work_dirs/hfl_r18_synthetic/epoch_10.pth \\
        --hand-bbox 262 161 358 320 --obj-bbox 183 160 396 320 \\
        --obj-name 006_mustard_bottle --obj-model-root data/synthetic/ho3d/models \\
        --cam-intr 614.6 614.0 312.4 236.1 --out vis.jpg
"""
import argparse

import cv2
import numpy as np

from mmhandobj.apis import inference_handobj, init_model
from mmhandobj.datasets.transforms import read_image
from mmhandobj.evaluation.functional import root_relative_to_camera
from mmhandobj.visualization import HandObjectVisualizer, find_mano_layer

FINGERS = ('thumb', 'index', 'middle', 'ring', 'pinky')
JOINT_NAMES = ['wrist'] + [f'{finger}_{i}' for finger in FINGERS for i in range(1, 5)]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('img', help='input image (any format OpenCV reads)')
    parser.add_argument('config', help='model config file, e.g. configs/hfl/hfl_r50_ho3d.py')
    parser.add_argument('checkpoint', help='checkpoint file (.pth)')
    parser.add_argument('--hand-bbox', type=float, nargs=4, required=True,
                        metavar=('X1', 'Y1', 'X2', 'Y2'), help='hand box, image pixels')
    parser.add_argument('--obj-bbox', type=float, nargs=4, required=True,
                        metavar=('X1', 'Y1', 'X2', 'Y2'), help='object box, image pixels')
    parser.add_argument('--cam-intr', type=float, nargs=4, required=True,
                        metavar=('FX', 'FY', 'CX', 'CY'),
                        help='camera intrinsics of the image, pixels')
    parser.add_argument('--obj-name', help='object name, the folder of its points.xyz under '
                        '--obj-model-root (e.g. a YCB name such as 006_mustard_bottle); '
                        'without it the object pose is not estimated')
    parser.add_argument('--obj-model-root', help='folder with <obj-name>/points.xyz '
                        "(default: the config's test dataset models folder)")
    parser.add_argument('--hand-side', choices=['right', 'left'], default='right',
                        help='which hand it is; a left hand is mirrored like in training')
    parser.add_argument('--root', type=float, nargs=3, metavar=('X', 'Y', 'Z'),
                        help='wrist position in the camera (metres, OpenCV axes: x right, '
                        'y down, z forward) to place the hand in 3D')
    parser.add_argument('--out', default='vis.jpg', help='output picture (default: vis.jpg)')
    parser.add_argument('--device', default='cpu', help='torch device, e.g. cpu or cuda:0')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    model = init_model(args.config, args.checkpoint, device=args.device)
    try:
        sample = inference_handobj(
            model, args.img, args.hand_bbox, args.obj_bbox, args.cam_intr,
            obj_name=args.obj_name, obj_model_root=args.obj_model_root,
            hand_side=args.hand_side, root_joint=args.root)
    except ValueError as err:  # bad inputs (boxes, intrinsics): say which, without a traceback
        raise SystemExit(f'error: {err}') from None
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
        print('object pose: not estimated (no --obj-name)')

    visualizer = HandObjectVisualizer(name='image_demo', mano_faces=find_mano_layer(model))
    image = cv2.cvtColor(read_image(args.img), cv2.COLOR_BGR2RGB)
    visualizer.add_datasample('image_demo', image, sample, draw_gt=False, out_file=args.out)
    print(f'picture written to {args.out}')


if __name__ == '__main__':
    main()
