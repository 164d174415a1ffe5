"""Train one config over batch sizes, learning-rate scaling and seeds; report which runs diverge.

Example (the quick start: batch 2, 4, 8 and 16, each with and without ``--auto-scale-lr``,
seeds 0, 1 and 2)::

    python tools/analysis_tools/stability_sweep.py configs/hfl/hfl_r18_synthetic.py \
        --batches 2 4 8 16 --seeds 0 1 2 --work-dir work_dirs/stability

Each run is ``tools/train.py CONFIG --work-dir <work-dir>/b<B>_<lr>_seed<S> [--auto-scale-lr]
--cfg-options train_dataloader.batch_size=<B> randomness.seed=<S>``, in its own process with
``--threads`` CPU threads, ``--jobs`` runs at a time. ``<lr>`` is ``lr`` (the config's learning
rate at every batch size) or ``scaledlr`` (``--auto-scale-lr``: the rate times batch /
``auto_scale_lr.base_batch_size``); at the base batch size both are the same run, which is
trained once and listed as ``lr``.

A run is **finite** when its process ends with status 0, its last epoch's checkpoint exists
and no logged loss or gradient norm is NaN or infinite. A run that stops on a non-finite
gradient (``NonFiniteGradHook``) is listed with the hook's message, which names the epoch, the
iteration and the module. From each run's ``scalars.json`` the table gives the largest logged
gradient norm (before clipping), the last logged loss, the ``--keys`` of its last validation
and its training minutes. A run whose work dir already holds a finished run is read, not
trained again, so an interrupted sweep continues where it stopped. Writes the report as JSON
and as a markdown table (``<work-dir>/sweep`` plus ``.json`` and ``.md``); exits with status 1
when any run is not finite.
"""
import argparse
import itertools
import json
import math
import os
import os.path as osp
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, NamedTuple, Optional, Sequence

from mmengine.config import Config

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from plot_curves import find_scalars, read_scalars  # noqa: E402

#: Repository root (tools/train.py is found from here).
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Validation keys shown by default, as the quick start's metrics log them: the hand's
#: Procrustes-aligned and root-relative joint errors (cm) and the object's ADD-0.1D (%).
DEFAULT_KEYS = ('ho3d/xyz_procrustes_al_mean3d', 'ho3d/xyz_mean3d', 'obj/ADD-0.1D')
#: Name of the report files in the sweep's work dir (suffixes .json and .md).
REPORT = 'sweep'
#: Log file of each run inside its work dir (stdout and stderr of tools/train.py).
RUN_LOG = 'sweep_run.log'
#: File of each run inside its work dir holding its training time (``{"seconds": s}``).
RUN_TIME = 'sweep_run.json'
#: Start of the message NonFiniteGradHook raises.
NON_FINITE_PATTERN = re.compile(r'non-finite gradient norm[^\n]*')


class RunSpec(NamedTuple):
    """One training of the sweep."""
    batch: int
    scale_lr: bool
    seed: int

    @property
    def name(self) -> str:
        return f"b{self.batch}_{'scaledlr' if self.scale_lr else 'lr'}_seed{self.seed}"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config')
    parser.add_argument('--batches', type=int, nargs='+', default=[2, 4, 8, 16])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--lr-scaling', choices=['both', 'off', 'on'], default='both',
                        help='runs without (off), with (on) or with and without (both) '
                        '--auto-scale-lr (default: both)')
    parser.add_argument('--work-dir', required=True, help='folder of the runs and the report')
    parser.add_argument('--jobs', type=int, default=1, help='runs at a time (default: 1)')
    parser.add_argument('--threads', type=int, default=2,
                        help='OMP_NUM_THREADS of each run (default: 2)')
    parser.add_argument('--keys', nargs='+', default=list(DEFAULT_KEYS),
                        help='validation keys to report')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='extra KEY=VALUE overrides passed to every run')
    return parser.parse_args(argv)


def plan_runs(batches: Sequence[int], seeds: Sequence[int], lr_scaling: str,
              base_batch: Optional[int]) -> List[RunSpec]:
    """The runs of the sweep, seed-major (every setting of seed 0 first).

    At ``base_batch`` the scaled learning rate equals the config's, so that run is planned
    once (unscaled).

    Raises:
        ValueError: If lr scaling is requested and the config has no base batch size.
    """
    scalings = {'off': [False], 'on': [True], 'both': [False, True]}[lr_scaling]
    if True in scalings and base_batch is None:
        raise ValueError('--lr-scaling on/both needs auto_scale_lr.base_batch_size in the '
                         'config')
    runs = []
    for seed, batch, scale in itertools.product(seeds, batches, scalings):
        if scale and batch == base_batch:
            if False not in scalings:
                runs.append(RunSpec(batch, False, seed))
            continue
        runs.append(RunSpec(batch, scale, seed))
    return runs


def train_command(config: str, spec: RunSpec, work_dir: str,
                  cfg_options: Sequence[str]) -> List[str]:
    """The ``tools/train.py`` command line of one run."""
    command = [sys.executable, osp.join(REPO_ROOT, 'tools', 'train.py'), config,
               '--work-dir', work_dir]
    if spec.scale_lr:
        command.append('--auto-scale-lr')
    return command + ['--cfg-options', f'train_dataloader.batch_size={spec.batch}',
                      f'randomness.seed={spec.seed}', *cfg_options]


def summarise_run(work_dir: str, max_epochs: int, returncode: Optional[int],
                  keys: Sequence[str]) -> Dict:
    """What one finished (or failed) run's work dir says.

    Returns:
        dict: ``finite`` (bool), ``returncode``, ``stopped`` (NonFiniteGradHook's message or
        the log's last line when the run failed, else None), ``max_grad_norm``,
        ``last_loss``, ``last_iter`` and ``metrics`` (the ``keys`` of the last validation).
    """
    log_path = osp.join(work_dir, RUN_LOG)
    log = open(log_path, errors='replace').read() if osp.isfile(log_path) else ''
    train, val = {}, {}
    try:
        train, val = read_scalars(find_scalars(work_dir))
    except FileNotFoundError:
        pass
    grad = [v for _, v in train.get('grad_norm', [])]
    loss = train.get('loss', [])
    non_finite_logged = any(not math.isfinite(v) for v in grad + [v for _, v in loss])
    last_val_epoch = max((step for series in val.values() for step, _ in series), default=None)
    metrics = {key: [v for step, v in val[key] if step == last_val_epoch][-1]
               for key in keys if key in val
               and any(step == last_val_epoch for step, _ in val[key])}
    checkpoint = osp.isfile(osp.join(work_dir, f'epoch_{max_epochs}.pth'))
    stopped = None
    if returncode not in (0, None) or not checkpoint:
        match = NON_FINITE_PATTERN.search(log)
        lines = [line for line in log.splitlines() if line.strip()]
        stopped = match.group(0) if match else (lines[-1] if lines else 'no log')
    return dict(finite=bool(checkpoint and returncode in (0, None) and not non_finite_logged),
                returncode=returncode, stopped=stopped,
                max_grad_norm=max(grad) if grad else None,
                last_loss=loss[-1][1] if loss else None,
                last_iter=int(loss[-1][0]) if loss else None, metrics=metrics)


def run_one(args: argparse.Namespace, spec: RunSpec, max_epochs: int) -> Dict:
    """Train one run (unless its work dir holds a finished one) and summarise it."""
    work_dir = osp.join(args.work_dir, spec.name)
    finished = osp.isfile(osp.join(work_dir, f'epoch_{max_epochs}.pth'))
    time_file = osp.join(work_dir, RUN_TIME)
    seconds, returncode = None, None
    if finished and osp.isfile(time_file):
        with open(time_file) as file:
            seconds = json.load(file)['seconds']
    if not finished:
        os.makedirs(work_dir, exist_ok=True)
        env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
        start = time.perf_counter()
        with open(osp.join(work_dir, RUN_LOG), 'w') as log:
            returncode = subprocess.call(
                train_command(args.config, spec, work_dir, args.cfg_options), stdout=log,
                stderr=subprocess.STDOUT, cwd=REPO_ROOT, env=env)
        seconds = time.perf_counter() - start
        with open(time_file, 'w') as file:
            json.dump(dict(seconds=seconds), file)
    summary = summarise_run(work_dir, max_epochs, returncode, args.keys)
    return dict(run=spec.name, batch=spec.batch, scaled_lr=spec.scale_lr, seed=spec.seed,
                seconds=seconds, **summary)


def markdown_table(results: Sequence[Dict], keys: Sequence[str]) -> str:
    """One row per run: setting, finite or where it stopped, gradient norm, loss, metrics."""
    lines = ['| run | batch | lr scaled | seed | finite | max grad norm | last loss | '
             + ' | '.join(keys) + ' | minutes |',
             '|---|---|---|---|---|---|---|' + '---|' * len(keys) + '---|']
    for r in results:
        finite = 'yes' if r['finite'] else f"NO: {r['stopped']}"
        grad = '' if r['max_grad_norm'] is None else f"{r['max_grad_norm']:.4g}"
        loss = '' if r['last_loss'] is None else f"{r['last_loss']:.4g}"
        values = ' | '.join(f"{r['metrics'][k]:.4g}" if k in r['metrics'] else ''
                            for k in keys)
        minutes = '' if r['seconds'] is None else f"{r['seconds'] / 60:.1f}"
        lines.append(f"| {r['run']} | {r['batch']} | {'yes' if r['scaled_lr'] else 'no'} | "
                     f"{r['seed']} | {finite} | {grad} | {loss} | {values} | {minutes} |")
    return '\n'.join(lines) + '\n'


def main(argv=None) -> List[Dict]:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    base_batch = cfg.get('auto_scale_lr', {}).get('base_batch_size')
    max_epochs = cfg.train_cfg.max_epochs
    runs = plan_runs(args.batches, args.seeds, args.lr_scaling, base_batch)
    os.makedirs(args.work_dir, exist_ok=True)
    print(f'{len(runs)} runs of {args.config} ({max_epochs} epochs each), {args.jobs} at a '
          f'time with {args.threads} threads', flush=True)

    def one(spec: RunSpec) -> Dict:
        result = run_one(args, spec, max_epochs)
        state = 'finite' if result['finite'] else f"NOT finite: {result['stopped']}"
        print(f'{spec.name}: {state}', flush=True)
        return result

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, runs))
    table = markdown_table(results, args.keys)
    with open(osp.join(args.work_dir, f'{REPORT}.json'), 'w') as file:
        json.dump(dict(config=args.config, max_epochs=max_epochs, base_batch_size=base_batch,
                       cfg_options=args.cfg_options, runs=results), file, indent=2)
    with open(osp.join(args.work_dir, f'{REPORT}.md'), 'w') as file:
        file.write(table)
    print(table, end='')
    absent = [key for key in args.keys if not any(key in r['metrics'] for r in results)]
    if absent:
        print(f"keys {', '.join(absent)} are in no run's last validation: see the metric names "
              f'in a run\'s {RUN_LOG}')
    bad = [r['run'] for r in results if not r['finite']]
    print(f"{len(results) - len(bad)} of {len(results)} runs finite"
          + (f"; not finite: {', '.join(bad)}" if bad else ''))
    if bad:
        sys.exit(1)
    return results


if __name__ == '__main__':
    main()
