"""Export a hand-object estimator to ONNX and check the file against PyTorch with onnxruntime.

The graph is the network as ``forward_raw`` runs it, MANO included: inputs ``images``
(B, 3, H, W) preprocessed crops (the test pipeline's output, after the data preprocessor),
``hand_boxes`` and ``obj_boxes`` (B, 4) x1y1x2y2 in crop pixels; outputs every tensor of the
dict ``forward_raw`` returns, named by that dict's keys and in its order (its documentation
lists them; this tool prints them). The CPU P2 windows are switched off in the exported copy.
PnP is not in the graph: ``tools/test.py CONFIG model.onnx`` and ``init_model(CONFIG,
'model.onnx')`` run the file with onnxruntime and decode its outputs as the PyTorch model does.

After writing the file, the tool runs it with onnxruntime and the PyTorch model on the same
random inputs and prints, per output, the largest difference relative to the output's scale;
above ``--tolerance`` (1e-4) it exits with status 1.

Examples:
    python tools/deployment/pytorch2onnx.py configs/hfl/hfl_r50_ho3d.py CKPT --out hfl.onnx
    python tools/deployment/pytorch2onnx.py configs/hfl/hfl_r18_synthetic.py CKPT \\
        --out quick.onnx --dynamic-batch
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional, Tuple

import torch
from mmengine.config import Config, DictAction

from mmhandobj.apis import init_model
from mmhandobj.apis.onnx_backend import (
    DEFAULT_OPSET,
    DEFAULT_TOLERANCE,
    export_onnx,
    import_onnxruntime,
    random_inputs,
    verify_onnx,
)

#: Seed of the random check inputs (not those the export traced with).
CHECK_SEED = 1


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help="checkpoint (.pth), or 'none' for random weights")
    parser.add_argument('--out', required=True, help='the .onnx file to write')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help='input size in pixels (default: the test pipeline\'s '
                        'HandObjectAffine input_size)')
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument('--batch', type=int, default=1, help='fixed batch size (default 1)')
    batch.add_argument('--dynamic-batch', action='store_true',
                       help='leave the batch dimension free')
    parser.add_argument('--opset', type=int, default=DEFAULT_OPSET,
                        help=f'ONNX opset (default {DEFAULT_OPSET})')
    parser.add_argument('--tolerance', type=float, default=DEFAULT_TOLERANCE,
                        help='largest accepted relative difference to PyTorch '
                        f'(default {DEFAULT_TOLERANCE:g})')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys')
    return parser.parse_args(argv)


def pipeline_input_size(cfg: Config) -> Optional[Tuple[int, int]]:
    """(H, W) of the test pipeline's ``HandObjectAffine`` (``input_size``), None if absent."""
    pipeline = cfg.get('test_dataloader', {}).get('dataset', {}).get('pipeline', [])
    for transform in pipeline:
        if 'input_size' in transform:
            size = transform['input_size']
            return (size, size) if isinstance(size, int) else tuple(size)
    return None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        import_onnxruntime()
    except ImportError as error:
        raise SystemExit(str(error)) from None
    if not osp.isfile(args.config):
        raise SystemExit(f'config file {args.config} does not exist')
    checkpoint = None if args.checkpoint.lower() == 'none' else args.checkpoint
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise SystemExit(f'checkpoint {checkpoint} does not exist')
    if args.batch < 1:
        raise SystemExit(f'--batch must be at least 1, got {args.batch}')
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    shape = tuple(args.shape) if args.shape else pipeline_input_size(cfg)
    if shape is None:
        raise SystemExit(f'{args.config} has no test pipeline input_size: give --shape H W')
    model = init_model(cfg, checkpoint)
    try:
        names = export_onnx(model, args.out, shape, batch=args.batch,
                            dynamic_batch=args.dynamic_batch, opset=args.opset)
    except (TypeError, RuntimeError) as error:
        raise SystemExit(str(error)) from None
    batch_text = 'dynamic batch' if args.dynamic_batch else f'batch {args.batch}'
    print(f'wrote {args.out} ({batch_text}, {shape[0]}x{shape[1]}, opset {args.opset}); '
          f'outputs (forward_raw\'s keys): {", ".join(names)}')
    check_batch = 2 if args.dynamic_batch else args.batch
    differences = verify_onnx(model, args.out, random_inputs(check_batch, shape, CHECK_SEED))
    for name, diff in differences.items():
        print(f'  {name:<24s} relative difference {diff:.2e}')
    worst_name = max(differences, key=differences.get)
    worst = differences[worst_name]
    print(f'worst relative difference onnxruntime vs PyTorch: {worst:.2e} ({worst_name}, '
          f'{torch.get_num_threads()} threads)')
    if worst > args.tolerance:
        print(f'{args.out}: {worst_name} differs from PyTorch by {worst:.2e} > '
              f'{args.tolerance:g}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
