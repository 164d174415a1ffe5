"""A browser demo: upload a picture (or pick a synthetic frame), see the hand and the object.

Shows the overlay, an interactive 3D view of the hand and the object in the camera frame (the
GLB the inferencer writes) and the predictions as JSON. Served on 127.0.0.1 with gradio
(``pip install gradio trimesh``). Boxes (x1 y1 x2 y2, pixels) are needed unless a detector is
given; intrinsics default to fx = fy = max(W, H) with the principal point at the centre.

Example (the quick start writes the checkpoint):
    python tools/train.py configs/hfl/hfl_r18_synthetic.py
    python demo/web_demo.py configs/hfl/hfl_r18_synthetic.py \\
        work_dirs/hfl_r18_synthetic/epoch_10.pth --port 7860
"""
import argparse
import glob
import json
import os.path as osp
import tempfile
from typing import List, Optional

import cv2

QUICK_START = ('No checkpoint at {path}. Train the quick-start model first (a few minutes on a '
               'CPU):\n\n    python tools/train.py configs/hfl/hfl_r18_synthetic.py\n\nwhich '
               'writes work_dirs/hfl_r18_synthetic/epoch_10.pth, then start this demo with it.')


def parse_numbers(text: str, count: int, name: str) -> Optional[List[float]]:
    """``count`` numbers from a text field (spaces or commas), None when empty."""
    text = (text or '').replace(',', ' ').strip()
    if not text:
        return None
    try:
        values = [float(v) for v in text.split()]
    except ValueError:
        values = []
    if len(values) != count:
        raise ValueError(f'{name}: expected {count} numbers, got {text!r}')
    return values


def synthetic_examples(root: Optional[str], num: int = 4) -> List[str]:
    """The first ``num`` frames of a synthetic world (its ``train/*/rgb/*.png``)."""
    if not root:
        return []
    return sorted(glob.glob(osp.join(root, 'train', '*', 'rgb', '*.png')))[:num]


def build_app(config: str, checkpoint: Optional[str], det_config: Optional[str] = None,
              det_checkpoint: Optional[str] = None, obj_model_root: Optional[str] = None,
              examples: Optional[List[str]] = None):
    """The gradio app; without a readable checkpoint it only says how to get one."""
    import gradio as gr
    with gr.Blocks(title='mmhandobj: hand and object pose') as app:
        gr.Markdown('# Hand and object pose (mmhandobj)')
        if not checkpoint or not osp.isfile(checkpoint):
            gr.Markdown(QUICK_START.format(path=checkpoint), elem_id='no_checkpoint')
            return app
        from mmhandobj.apis import HandObjectInferencer
        inferencer = HandObjectInferencer(config, checkpoint, det_config, det_checkpoint,
                                          obj_model_root=obj_model_root)
        out_root = tempfile.mkdtemp(prefix='web_demo_')

        def predict(path, hand_box, obj_box, cam_intr, obj_name):
            if not path:
                return None, None, '', 'Upload an image first.'
            image = cv2.imread(path) if osp.isfile(path) else None
            if image is None:
                return None, None, '', (f'{osp.basename(path)} is not an image OpenCV reads '
                                        '(expected PNG, JPEG or BMP).')
            try:
                hand, obj = (parse_numbers(hand_box, 4, 'hand box'),
                             parse_numbers(obj_box, 4, 'object box'))
                cam = parse_numbers(cam_intr, 4, 'intrinsics')
                out_dir = tempfile.mkdtemp(dir=out_root)
                rec = next(inferencer(image, hand_bbox=hand, obj_bbox=obj,
                                      obj_name=(obj_name or None), cam_intr=cam,
                                      out_dir=out_dir, return_vis=True, progress=False))
            except ValueError as err:
                return None, None, '', f'Error: {err}'
            vis = rec.pop('visualization')
            glb = next((p for p in rec.get('mesh_files', []) if p.endswith('.glb')), None)
            return vis, glb, json.dumps(rec, indent=1), f'status: {rec["status"]}'

        with gr.Row():
            with gr.Column():
                upload = gr.File(label='image', type='filepath', elem_id='upload')
                hand_box = gr.Textbox(label='hand box x1 y1 x2 y2 (pixels)', elem_id='hand_box')
                obj_box = gr.Textbox(label='object box x1 y1 x2 y2 (pixels)', elem_id='obj_box')
                cam_intr = gr.Textbox(label='intrinsics fx fy cx cy (pixels)', elem_id='cam')
                obj_name = gr.Textbox(label='object name', elem_id='obj_name')
                run = gr.Button('Estimate', elem_id='run')
                if examples:
                    gr.Examples(examples, inputs=[upload], label='synthetic frames')
            with gr.Column():
                message = gr.Markdown(elem_id='message')
                overlay = gr.Image(label='overlay', type='numpy', elem_id='overlay')
                view = gr.Model3D(label='3D (camera frame)', elem_id='view3d')
                result = gr.Textbox(label='predictions (JSON)', lines=12, elem_id='json')
        run.click(predict, [upload, hand_box, obj_box, cam_intr, obj_name],
                  [overlay, view, result, message])
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config or model-zoo name')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (.pth)')
    parser.add_argument('--det-config', help='detector config (configs/det/)')
    parser.add_argument('--det-checkpoint', help='detector checkpoint')
    parser.add_argument('--obj-model-root', help='folder with <obj-name>/points.xyz')
    parser.add_argument('--examples', help='synthetic world root whose frames to offer')
    parser.add_argument('--port', type=int, default=7860, help='port on 127.0.0.1')
    args = parser.parse_args()
    app = build_app(args.config, args.checkpoint, args.det_config, args.det_checkpoint,
                    args.obj_model_root, synthetic_examples(args.examples))
    app.launch(server_name='127.0.0.1', server_port=args.port)


if __name__ == '__main__':
    main()
