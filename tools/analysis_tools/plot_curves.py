"""Plot training losses and validation metrics from a work dir's logged scalars.

Example::

    python tools/analysis_tools/plot_curves.py work_dirs/hfl_r18_synthetic_benchmark \
        --val-keys ho3d/xyz_procrustes_al_mean3d ho3d/joints2d_EPE_px obj/ADD-0.1D \
        --out curves.png

Reads ``<work_dir>/<timestamp>/vis_data/scalars.json`` (MMEngine's ``LocalVisBackend``; the
newest run when there are several), draws the training losses against the iteration and each
validation key against the epoch, and writes one PNG titled with the run's name (the work dir's
folder name, never a machine path). Prints the last value of every key drawn.
"""
import argparse
import glob
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

#: Losses drawn by default: every logged key starting with this.
LOSS_PREFIX = 'loss'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dir', help='work dir of a training run (or a vis_data folder)')
    parser.add_argument('--val-keys', nargs='+', default=[],
                        help='validation metrics to draw, e.g. ho3d/joints2d_EPE_px')
    parser.add_argument('--out', default=None, help='PNG to write (default: WORK_DIR/curves.png)')
    return parser.parse_args(argv)


def find_scalars(work_dir: str) -> str:
    """Path of the newest ``vis_data/scalars.json`` under ``work_dir``.

    Raises:
        FileNotFoundError: If there is none.
    """
    direct = osp.join(work_dir, 'scalars.json')
    if osp.isfile(direct):
        return direct
    found = sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(f'no */vis_data/scalars.json under {work_dir}: was the run '
                                'logged with LocalVisBackend (default_runtime.py)?')
    return found[-1]


def run_name(scalars_path: str) -> str:
    """Name of the run that wrote ``scalars_path``: its work dir's folder name.

    ``<work_dir>/<timestamp>/vis_data/scalars.json`` gives ``work_dir``'s basename; a
    ``scalars.json`` in any other folder gives that folder's name.
    """
    folder = osp.dirname(osp.abspath(scalars_path))
    if osp.basename(folder) == 'vis_data':
        folder = osp.dirname(osp.dirname(folder))
    return osp.basename(folder)


def read_scalars(path: str) -> Tuple[Dict[str, List[Tuple[float, float]]],
                                     Dict[str, List[Tuple[float, float]]]]:
    """Training and validation series of one ``scalars.json`` (one JSON object a line).

    Returns:
        ``(train, val)``: ``{key: [(iteration, value), ...]}`` for the training lines (they
        hold ``iter``) and ``{key: [(epoch, value), ...]}`` for the validation lines (they
        hold ``step``, the epoch, and no ``iter``).
    """
    train, val = defaultdict(list), defaultdict(list)
    with open(path) as file:
        for number, line in enumerate(file, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{number}: not a JSON line ({err})') from None
            target, x = ((train, record['iter']) if 'iter' in record
                         else (val, record.get('step')))
            for key, value in record.items():
                if key not in ('iter', 'step', 'epoch') and isinstance(value, (int, float)):
                    target[key].append((float(x), float(value)))
    return dict(train), dict(val)


def plot_curves(train: Dict[str, List[Tuple[float, float]]],
                val: Dict[str, List[Tuple[float, float]]], val_keys: Sequence[str],
                out: str, title: Optional[str] = None) -> None:
    """Losses (log scale) on the left, one panel per validation key, written to ``out``.

    Raises:
        KeyError: If a validation key was never logged (the message lists those that were).
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    missing = [k for k in val_keys if k not in val]
    if missing:
        raise KeyError(f'validation keys {missing} are not in the log; logged: {sorted(val)}')
    fig, axes = plt.subplots(1, 1 + len(val_keys), figsize=(5 * (1 + len(val_keys)), 4),
                             squeeze=False)
    ax = axes[0, 0]
    for key in sorted(k for k in train if k.startswith(LOSS_PREFIX)):
        xs, ys = zip(*train[key])
        ax.plot(xs, ys, label=key, linewidth=1)
    ax.set_yscale('log')
    ax.set_xlabel('iteration')
    ax.set_title('training losses')
    ax.legend(fontsize=6)
    for ax, key in zip(axes[0, 1:], val_keys):
        xs, ys = zip(*val[key])
        ax.plot(xs, ys, marker='o')
        ax.set_xlabel('epoch')
        ax.set_title(key)
        ax.grid(True, alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)


def main(argv=None) -> None:
    args = parse_args(argv)
    path = find_scalars(args.work_dir)
    train, val = read_scalars(path)
    out = args.out or osp.join(args.work_dir, 'curves.png')
    plot_curves(train, val, args.val_keys, out, title=run_name(path))
    for key in sorted(k for k in train if k.startswith(LOSS_PREFIX)) + list(args.val_keys):
        series = train.get(key) or val[key]
        print(f'{key:<40} {series[-1][1]:.4f}  (last of {len(series)})')
    print(f'curves written to {out}')


if __name__ == '__main__':
    main()
