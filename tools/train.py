"""Train a model from a config with MMEngine's runner.

Examples:
    python tools/train.py configs/hfl/hfl_r18_synthetic.py
    python tools/train.py configs/hfl/hfl_r50_ho3d.py --resume        # continue the last run
    bash tools/dist_train.sh configs/hfl/hfl_r50_dexycb.py 4          # 4 processes (torchrun)
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmhandobj.utils import (
    PidLock,
    PidLockError,
    add_common_tool_args,
    apply_mmengine_patches,
    find_resume_checkpoint,
    load_tool_config,
    setup_distributed,
)

#: Lock file of a work dir while a training runs in it.
WORK_DIR_LOCK = '.train.lock'


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, from the latest checkpoint in the '
        'work dir')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision (needs a GPU)')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by total batch size / auto_scale_lr.base_batch_size')
    add_common_tool_args(parser)
    return parser.parse_args()


def build_config(args: argparse.Namespace) -> Config:
    """Load the config and apply the command-line options to it."""
    cfg = load_tool_config(args)
    if args.amp:
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a CUDA GPU; none is available on this machine')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise SystemExit(f'--auto-scale-lr needs auto_scale_lr.base_batch_size in '
                             f'{args.config}')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        # MMEngine would take an empty or dangling last_checkpoint at its word
        cfg.resume = True
        cfg.load_from = find_resume_checkpoint(cfg.work_dir)
        if cfg.load_from is None:
            cfg.resume = False
            print(f'--resume: no checkpoint in {cfg.work_dir}; training from scratch')
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    setup_distributed(cfg, args.launcher)
    return cfg


def main() -> None:
    args = parse_args()
    apply_mmengine_patches()
    cfg = build_config(args)
    lock = None
    if os.environ.get('RANK', '0') == '0':
        lock = PidLock(osp.join(cfg.work_dir, WORK_DIR_LOCK), f'work dir {cfg.work_dir}')
        try:
            lock.acquire()
        except PidLockError as err:
            raise SystemExit(f'{err} (another training writes there: pass --work-dir)') from None
    try:
        Runner.from_cfg(cfg).train()
    finally:
        if lock is not None:
            lock.release()


if __name__ == '__main__':
    main()
