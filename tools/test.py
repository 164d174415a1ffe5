"""Test (evaluate) a checkpoint with a config's test dataloader and evaluator.

Examples:
    python tools/test.py configs/hfl/hfl_r50_ho3d.py work_dirs/hfl_r50_ho3d/epoch_70.pth
        # HO3D: writes work_dirs/hfl_r50_ho3d/test/{pred.json,pred.zip} for the server (and
        # scores.txt when GT is given); validation during training writes <work_dir>/val/
    python tools/test.py CONFIG CKPT --out preds.pkl --show-dir vis
    bash tools/dist_test.sh CONFIG CKPT 4
"""
import argparse
import os.path as osp

from mmengine.config import Config
from mmengine.runner import Runner

from mmhandobj.utils import add_common_tool_args, load_tool_config, setup_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump every prediction to this .pkl file')
    parser.add_argument('--show-dir', help='save visualisations of the predictions in '
                        '<work_dir>/<timestamp>/<show_dir>')
    add_common_tool_args(parser)
    return parser.parse_args()


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args)
    if not osp.isfile(args.checkpoint):
        raise SystemExit(f'checkpoint {args.checkpoint} does not exist')
    cfg.load_from = args.checkpoint
    cfg.resume = False
    if args.out is not None:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise SystemExit(f'--out must end with .pkl, got {args.out}')
        evaluator = cfg.test_evaluator
        metrics = list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]
        cfg.test_evaluator = [*metrics, dict(type='DumpResults', out_file_path=args.out)]
    if args.show_dir is not None:
        hooks = cfg.setdefault('default_hooks', {})
        if 'visualization' not in hooks:
            raise SystemExit('--show-dir needs default_hooks.visualization in the config')
        hooks.visualization.enable = True
        hooks.visualization.test_out_dir = args.show_dir
    setup_distributed(cfg, args.launcher)
    return cfg


def main() -> None:
    args = parse_args()
    runner = Runner.from_cfg(build_config(args))
    runner.test()


if __name__ == '__main__':
    main()
