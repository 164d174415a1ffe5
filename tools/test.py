"""Test (evaluate) a checkpoint with a config's test dataloader and evaluator.

Examples:
    python tools/test.py configs/hfl/hfl_r50_ho3d.py work_dirs/hfl_r50_ho3d/epoch_70.pth
        # HO3D: writes work_dirs/hfl_r50_ho3d/test/{pred.json,pred.zip} for the server (and
        # scores.txt when GT is given); validation during training writes <work_dir>/val/
    python tools/test.py CONFIG CKPT --out preds.pkl --show-dir vis
    python tools/test.py CONFIG model.onnx
        # the network exported by tools/deployment/pytorch2onnx.py, run by onnxruntime
    python tools/test.py configs/det/fcos_mbv3s_synthetic.py DET_CKPT --out dets.json
        # a detector config: box AP and a COCO-style detection file for HFL-Net's test
    bash tools/dist_test.sh CONFIG CKPT 4
"""
import argparse
import os.path as osp
from typing import List

from mmengine.config import Config
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

from mmhandobj.apis.onnx_backend import onnx_model_cfg
from mmhandobj.utils import (
    add_common_tool_args,
    apply_mmengine_patches,
    load_tool_config,
    setup_distributed,
)
from mmhandobj.utils.checkpoint import CheckpointFileError, check_checkpoint_fits
from mmhandobj.utils.paths import OverwriteError, refuse_overwrite

#: The detector's metric, which writes the ``--out *.json`` detection file.
BOX_METRIC = 'HandObjectBoxMetric'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file, or an .onnx export of the '
                        'config\'s model (run with onnxruntime)')
    parser.add_argument('--out', help='dump every prediction to this .pkl file, or, with a '
                        'detector config, write the detections to this COCO-style .json file')
    parser.add_argument('--show-dir', help='save visualisations of the predictions in '
                        '<work_dir>/<timestamp>/<show_dir>')
    parser.add_argument('--no-fuse-bn', action='store_true',
                        help='keep the BatchNorms (default: fold them into the convs; same '
                        'outputs to float rounding, faster)')
    parser.add_argument('--no-channels-last', action='store_true',
                        help='keep contiguous (NCHW) weights and maps (default: channels-last)')
    add_common_tool_args(parser)
    return parser.parse_args()


def _dataset_files(dataset: dict) -> List[str]:
    """The file names a test dataset config holds (annotation, detection files...)."""
    root = dataset.get('data_root') or ''
    found = []
    for value in dataset.values():
        if isinstance(value, dict):
            found += _dataset_files(value)
        elif isinstance(value, (list, tuple)):
            found += [f for v in value if isinstance(v, dict) for f in _dataset_files(v)]
        elif isinstance(value, str):
            found += [value, osp.join(root, value)]
    return found


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    try:
        refuse_overwrite([args.config, args.checkpoint,
                          *_dataset_files(cfg.get('test_dataloader', {}).get('dataset', {}))],
                         [args.out])
    except OverwriteError as err:
        raise SystemExit(f'error: {err}') from None
    onnx = args.checkpoint.endswith('.onnx')
    if onnx:  # the exported network in onnxruntime, decoded by the config's estimator
        cfg.model = onnx_model_cfg(cfg.model, args.checkpoint)
        cfg.load_from = None
    if args.out is not None:
        evaluator = cfg.test_evaluator
        metrics = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
        if args.out.endswith('.json'):
            box_metrics = [m for m in metrics if str(m.get('type')).endswith(BOX_METRIC)]
            if not box_metrics:
                raise SystemExit(f'--out {args.out}: a .json output is a detection file and '
                                 f'needs a detector config (test_evaluator {BOX_METRIC}, e.g. '
                                 'configs/det/fcos_mbv3s_synthetic.py); use --out preds.pkl '
                                 f'to dump the predictions of {args.config}')
            for metric in box_metrics:
                metric['det_file'] = args.out
        elif args.out.endswith(('.pkl', '.pickle')):
            cfg.test_evaluator = [*metrics, dict(type='DumpResults', out_file_path=args.out)]
        else:
            raise SystemExit(f'--out must end with .pkl (or .json with a detector config), '
                             f'got {args.out}')
    if args.show_dir is not None:
        hooks = cfg.setdefault('default_hooks', {})
        if 'visualization' not in hooks:
            raise SystemExit('--show-dir needs default_hooks.visualization in the config')
        hooks.visualization.enable = True
        hooks.visualization.test_out_dir = args.show_dir
    hooks = cfg.setdefault('custom_hooks', [])
    if onnx:
        cfg.custom_hooks = [h for h in hooks if h.get('type') != 'OptimizeForInferenceHook']
    elif not any(h.get('type') == 'OptimizeForInferenceHook' for h in hooks):
        hooks.append(dict(type='OptimizeForInferenceHook', fuse_bn=not args.no_fuse_bn,
                          channels_last=not args.no_channels_last))
    setup_distributed(cfg, args.launcher)
    return cfg


def main() -> None:
    args = parse_args()
    apply_mmengine_patches()
    cfg = build_config(args)
    runner = Runner.from_cfg(cfg)
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if not args.checkpoint.endswith('.onnx'):  # the ONNX backend checks its file itself
        try:  # MMEngine only warns about missing keys and would score random weights
            check_checkpoint_fits(model, args.checkpoint)
        except CheckpointFileError as err:
            raise SystemExit(f'error: {err}') from None
    runner.test()


if __name__ == '__main__':
    main()
