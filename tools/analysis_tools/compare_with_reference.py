"""Speed of this HFL-Net against the authors' code (lzfff12/HFL-Net) on the same machine.

Example (from the repository root, with a checkout of the authors' code in ``DIR``)::

    git clone https://github.com/lzfff12/HFL-Net DIR
    python tools/analysis_tools/compare_with_reference.py --reference-code DIR

What is timed, on the CPU, both sides with the same shapes, random weights and random targets:

* the HFL-Net R50 training step at ``--batch`` (forward, losses, backward, Adam) on 256x256
  images with the same hand and object boxes (``benchmark.py``'s anchor boxes);
* inference at ``--batch`` (the network's forward, no PnP);
* the MANO layer at ``--mano-batch``, forward and backward (45 axis-angle components, flat
  hand mean).

Our side is exactly ``tools/analysis_tools/benchmark.py`` (``--modes train infer
--standin-mano``: the config's optimizer, folded BatchNorms and channels-last for inference, the
CPU defaults) and ``benchmark_mano.py``'s forward+backward; the authors' side is their
``HONet`` with their losses (``HOModel``, the weights of their HO3D options), their
``torch.optim.Adam`` and their manopth ``ManoLayer``, timed with the same timers. Each
measurement runs in a fresh process (``--side``), alternating authors, ours, authors, ours for
``--rounds`` rounds, so that neither side inherits the other's caches and a drift of the
machine hits both. Prints each round's figures and, per quantity, the median and the range of
the ratios ours / authors (images/s; for MANO, their milliseconds over ours): higher is faster.

manopth needs chumpy only to read the MANO pickle; here its layer gets the stand-in MANO
arrays directly (the same arrays as ours), so the authors' side needs nothing beyond this
repository's requirements. No file of the authors' code is changed or copied.
"""
import argparse
import contextlib
import importlib.util
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
from types import ModuleType
from typing import Dict, List, Sequence

import numpy as np

REFERENCE_REPO = 'https://github.com/lzfff12/HFL-Net'
#: Files of the authors' repository this tool imports (relative to its root).
REFERENCE_FILES = ('model.py', 'networks/backbone_share.py', 'networks/mano_head.py',
                   'manopth/manopth/manolayer.py')
#: Classes ``model.py`` must define.
REFERENCE_CLASSES = ('class HONet', 'class HOModel')
#: The authors' HO3D options (their utils/options.py defaults): loss weights of ``HOModel``.
REFERENCE_LOSS_WEIGHTS = dict(
    mano_lambda_verts3d=1e4, mano_lambda_joints3d=1e4, mano_lambda_manopose=10,
    mano_lambda_manoshape=0.1, mano_lambda_regulshape=0, mano_lambda_regulpose=0,
    lambda_joints2d=1e2, lambda_objects=5e2)
#: Their interaction blocks (``--transformer_depth``, ``--transformer_head``).
REFERENCE_TRANSFORMER = dict(transformer_depth=1, transformer_head=4)
#: Their optimizer settings (traineval.py: Adam over the trainable parameters).
REFERENCE_ADAM = dict(lr=1e-4, weight_decay=5e-4)
#: Input side in pixels and RoI side in P2 cells (both sides).
INPUT_SIZE = 256
ROI_SIZE = 32
#: Prefix of the one stdout line a ``--side`` process reports its figures on.
RESULT_PREFIX = 'RESULT '
#: The figures each side reports: training and inference images/s, MANO ms per call.
QUANTITIES = ('train_img_s', 'infer_img_s', 'mano_fwd_bwd_ms')


def _sibling(name: str) -> ModuleType:
    """Import ``tools/analysis_tools/<name>.py`` (the tools folder is not a package)."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_analysis_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_reference_code(path: str) -> str:
    """Absolute path of a checkout of the authors' HFL-Net code.

    Args:
        path: The folder given as ``--reference-code``.

    Returns:
        Its absolute path.

    Raises:
        SystemExit: If ``path`` is not a folder, lacks one of :data:`REFERENCE_FILES`, or its
            ``model.py`` does not define ``HONet`` and ``HOModel``; the message names what is
            missing and how to get the checkout.
    """
    root = osp.abspath(path)
    how = f'get it with `git clone {REFERENCE_REPO} {path}`'
    if not osp.isdir(root):
        raise SystemExit(f'error: --reference-code {path}: no such folder; {how}')
    missing = [name for name in REFERENCE_FILES if not osp.isfile(osp.join(root, name))]
    if missing:
        raise SystemExit(f'error: --reference-code {path} is not a checkout of the authors\' '
                         f'HFL-Net code ({REFERENCE_REPO}): missing {", ".join(missing)}; '
                         f'{how}')
    with open(osp.join(root, 'model.py'), encoding='utf-8', errors='replace') as file:
        text = file.read()
    absent = [cls for cls in REFERENCE_CLASSES if cls not in text]
    if absent:
        raise SystemExit(f'error: --reference-code {path}: model.py does not define '
                         f'{", ".join(c.split()[1] for c in absent)}; is it the authors\' '
                         f'HFL-Net code ({REFERENCE_REPO})?')
    return root


class _ChumpyValue:
    """What manopth reads of a chumpy array: its value, ``.r``."""

    def __init__(self, value: np.ndarray) -> None:
        self.r = value


def reference_mano_data(arrays: Dict[str, np.ndarray]) -> Dict[str, object]:
    """The dict manopth's ``ready_arguments`` would return, built from MANO arrays.

    Args:
        arrays: MANO arrays as :func:`mmhandobj.models.mano.load_mano_model` returns them
            (metres; ``J_regressor (16, 778)`` dense).

    Returns:
        The keys ``ManoLayer.__init__`` of manopth reads: chumpy-like ``betas`` (zeros, 10),
        ``shapedirs``, ``posedirs``, ``v_template``, ``weights`` (``.r``), a scipy CSC
        ``J_regressor`` (``.toarray()``) and plain ``f``, ``kintree_table``,
        ``hands_components``, ``hands_mean``.
    """
    import scipy.sparse

    data: Dict[str, object] = {
        key: _ChumpyValue(np.asarray(arrays[key]))
        for key in ('shapedirs', 'posedirs', 'v_template', 'weights')}
    data['betas'] = _ChumpyValue(np.zeros(arrays['shapedirs'].shape[-1]))
    data['J_regressor'] = scipy.sparse.csc_matrix(arrays['J_regressor'])
    for key in ('f', 'kintree_table', 'hands_components', 'hands_mean'):
        data[key] = np.asarray(arrays[key])
    return data


def time_ours(args: argparse.Namespace) -> Dict[str, float]:
    """Our figures, measured by ``benchmark.py`` and ``benchmark_mano.py`` in this process."""
    import torch

    benchmark = _sibling('benchmark')
    benchmark_mano = _sibling('benchmark_mano')
    torch.set_num_threads(args.threads)
    with contextlib.redirect_stdout(sys.stderr):
        results = benchmark.main([
            args.config, '--device', 'cpu', '--batch', str(args.batch), '--shape',
            str(INPUT_SIZE), str(INPUT_SIZE), '--standin-mano', '--modes', 'train', 'infer',
            '--warmup', str(args.warmup), '--iters', str(args.iters)])
        rows = benchmark_mano.benchmark(
            benchmark_mano.parse_args(['--batch', str(args.mano_batch), '--device', 'cpu']),
            torch.device('cpu'))
    mano_ms = next(float(row[2]) for row in rows if row[1] == 'forward+backward')
    return dict(train_img_s=args.batch / results['train']['seconds'],
                infer_img_s=args.batch / results['infer']['seconds'],
                mano_fwd_bwd_ms=mano_ms)


def time_reference(args: argparse.Namespace) -> Dict[str, float]:
    """The authors' figures, their network and manopth imported from ``--reference-code``."""
    import torch

    from mmhandobj.synthetic import standin_mano_arrays

    benchmark = _sibling('benchmark')
    benchmark_mano = _sibling('benchmark_mano')
    root = check_reference_code(args.reference_code)
    torch.set_num_threads(args.threads)
    sys.path.insert(0, root)
    cpu = torch.device('cpu')
    with contextlib.redirect_stdout(sys.stderr):  # their constructors print
        import model as reference_model
        from manopth.manopth import manolayer as reference_manolayer

        mano_data = reference_mano_data(standin_mano_arrays('right', 0))
        reference_manolayer.ready_arguments = lambda _path: mano_data
        mano = reference_manolayer.ManoLayer(ncomps=45, use_pca=False, flat_hand_mean=True,
                                             side='right', center_idx=None)
        torch.manual_seed(0)
        net = reference_model.HONet(mano_layer=mano, roi_res=ROI_SIZE, pretrained=False,
                                    **REFERENCE_TRANSFORMER)
        trainer = reference_model.HOModel(net, **REFERENCE_LOSS_WEIGHTS)

    gen = torch.Generator().manual_seed(0)
    batch = args.batch
    images = torch.rand(batch, 3, INPUT_SIZE, INPUT_SIZE, generator=gen)
    hand = torch.tensor([benchmark.ANCHOR_HAND_BOX]).repeat(batch, 1)
    obj = torch.tensor([benchmark.ANCHOR_OBJ_BOX]).repeat(batch, 1)
    mano_params = torch.cat([0.3 * torch.randn(batch, 48, generator=gen),
                             torch.randn(batch, 10, generator=gen)], 1)
    targets = dict(joints_uv=torch.rand(batch, 21, 2, generator=gen),
                   obj_p2d_gt=torch.rand(batch, 21, 2, generator=gen),
                   obj_mask=(torch.rand(batch, ROI_SIZE, ROI_SIZE, generator=gen) > 0.5)
                   .float())
    optimizer = torch.optim.Adam([p for p in trainer.parameters() if p.requires_grad],
                                 **REFERENCE_ADAM)

    def train_step() -> None:
        loss, _ = trainer(images, hand, obj, mano_params=mano_params.clone(), **targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    def infer() -> None:
        with torch.no_grad():
            net(images, hand, obj)

    trainer.train()
    train = benchmark.measure(train_step, cpu, args.warmup, args.iters)
    trainer.eval()
    inference = benchmark.measure(infer, cpu, args.warmup, args.iters)

    pose = 0.5 * torch.randn(args.mano_batch, 48, generator=gen)
    betas = torch.randn(args.mano_batch, 10, generator=gen)

    def mano_forward_backward() -> None:  # what benchmark_mano.py times on our layer
        verts, joints = mano(pose.clone().requires_grad_(), betas.clone().requires_grad_())
        (verts.sum() + joints.sum()).backward()

    mano_ms = benchmark_mano.median_ms(mano_forward_backward, cpu, warmup=5, repeats=20)
    return dict(train_img_s=batch / train['seconds'], infer_img_s=batch / inference['seconds'],
                mano_fwd_bwd_ms=mano_ms)


def ratios(ours: Dict[str, float], reference: Dict[str, float]) -> Dict[str, float]:
    """Speed-ups of ours over the authors' code (> 1: ours is faster).

    Images/s ratios ours / authors for training and inference; for MANO, the authors'
    milliseconds over ours.
    """
    return dict(train=ours['train_img_s'] / reference['train_img_s'],
                infer=ours['infer_img_s'] / reference['infer_img_s'],
                mano=reference['mano_fwd_bwd_ms'] / ours['mano_fwd_bwd_ms'])


def summarise(rounds: Sequence[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """Median, lowest and highest of each ratio over the rounds (:func:`ratios` outputs)."""
    return {key: dict(median=statistics.median(r[key] for r in rounds),
                      low=min(r[key] for r in rounds), high=max(r[key] for r in rounds))
            for key in rounds[0]}


def run_side(side: str, args: argparse.Namespace) -> Dict[str, float]:
    """Run one side's timing in a fresh process and return its figures.

    Raises:
        SystemExit: If that process fails (its stderr's end is printed first).
    """
    command = [sys.executable, osp.abspath(__file__), '--side', side,
               '--reference-code', args.reference_code, '--config', args.config,
               '--batch', str(args.batch), '--mano-batch', str(args.mano_batch),
               '--threads', str(args.threads), '--warmup', str(args.warmup),
               '--iters', str(args.iters)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        print(done.stderr[-3000:], file=sys.stderr)
        who = 'the authors\' code' if side == 'reference' else 'our benchmark'
        raise SystemExit(f'error: timing {who} failed (exit code {done.returncode}); its '
                         'error output is above')
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--reference-code', required=True, metavar='DIR',
                        help=f'a checkout of the authors\' code ({REFERENCE_REPO})')
    parser.add_argument('--config', default='configs/hfl/hfl_r50_ho3d.py',
                        help='our model and optimizer (default: %(default)s)')
    parser.add_argument('--batch', type=int, default=8, help='images per step (default: 8)')
    parser.add_argument('--mano-batch', type=int, default=64,
                        help='hands per MANO call (default: 64)')
    parser.add_argument('--threads', type=int, default=2,
                        help='CPU threads of each side (default: 2)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='authors-then-ours rounds, each side in a fresh process '
                        '(default: 3)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed network iterations per mode (default: 1)')
    parser.add_argument('--iters', type=int, default=3,
                        help='timed network iterations per mode (default: 3)')
    parser.add_argument('--side', choices=['ours', 'reference'], default=None,
                        help='internal: time one side in this process and print its figures')
    args = parser.parse_args(argv)
    for name in ('batch', 'mano_batch', 'threads', 'rounds', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, got '
                         f'{getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be at least 0, got {args.warmup}')
    return args


def main(argv=None) -> List[Dict[str, float]]:
    """Compare both sides; returns the ratios of every round."""
    args = parse_args(argv)
    check_reference_code(args.reference_code)
    if args.side is not None:
        timing = time_reference if args.side == 'reference' else time_ours
        print(RESULT_PREFIX + json.dumps(timing(args)))
        return []
    print(f'HFL-Net R50, {INPUT_SIZE}x{INPUT_SIZE}, batch {args.batch}, CPU fp32, '
          f'{args.threads} threads; MANO batch {args.mano_batch}; {args.rounds} rounds, '
          f'authors then ours, each in a fresh process')
    header = (f'{"round":<6}{"side":<9}{"train img/s":>12}{"infer img/s":>13}'
              f'{"MANO fwd+bwd ms":>17}')
    print(header)
    per_round = []
    for number in range(1, args.rounds + 1):
        figures = {side: run_side(side, args) for side in ('reference', 'ours')}
        for side, name in (('reference', 'authors'), ('ours', 'ours')):
            f = figures[side]
            print(f'{number:<6}{name:<9}{f["train_img_s"]:>12.3f}{f["infer_img_s"]:>13.3f}'
                  f'{f["mano_fwd_bwd_ms"]:>17.2f}')
        per_round.append(ratios(figures['ours'], figures['reference']))
    labels = dict(train='training step', infer='inference', mano='MANO forward+backward')
    for key, stats in summarise(per_round).items():
        each = ', '.join(f'{r[key]:.2f}x' for r in per_round)
        print(f'ours / authors, {labels[key]:<22} median {stats["median"]:.2f}x, '
              f'range {stats["low"]:.2f}-{stats["high"]:.2f}x ({each})')
    return per_round


if __name__ == '__main__':
    main()
