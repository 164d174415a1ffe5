"""Mean, standard deviation, minimum and maximum of every validation key over several runs.

Example (three seeds of the quick start, see ``tools/analysis_tools/launch_seeds.sh``)::

    python tools/analysis_tools/aggregate_runs.py work_dirs/hfl_r18_synthetic_seed{0,1,2} \
        --out work_dirs/hfl_r18_synthetic_seeds

Each WORK_DIR is read like ``plot_curves.py`` reads it: the newest
``<work_dir>/<timestamp>/vis_data/scalars.json`` (MMEngine's ``LocalVisBackend``), or a
``scalars.json`` directly in it. From each run the validation record of its last epoch is
taken (``--epoch N`` picks epoch N instead; a validation before training is epoch 0); the
loop's timing entries (:data:`TIMING_KEYS`) are left out, ``--keys`` keeps only the keys
named. The standard deviation is the sample one (ddof=1: divided by runs - 1); it needs at
least two runs and is left empty with one. Prints a markdown table and writes it and the
numbers as JSON next to each other: ``--out`` plus the suffixes ``.md`` and ``.json``.
"""
import argparse
import json
import math
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from plot_curves import find_scalars, read_scalars  # noqa: E402

#: Entries MMEngine logs with each validation that time the loop rather than score the model (s).
TIMING_KEYS = ('data_time', 'time')

#: Delta degrees of freedom of the reported standard deviation (sample std).
STD_DDOF = 1


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR',
                        help='work dirs of the runs (one per seed)')
    parser.add_argument('--epoch', type=int, default=None,
                        help='validation epoch to read from each run (default: its last)')
    parser.add_argument('--keys', nargs='+', default=None,
                        help='validation keys to aggregate (default: every one logged)')
    parser.add_argument('--out', default=None,
                        help='prefix of the JSON and markdown files to write (default: '
                        'aggregate next to the first work dir: <first>_aggregate)')
    return parser.parse_args(argv)


def run_metrics(work_dir: str, epoch: Optional[int] = None) -> Dict[str, float]:
    """Validation metrics of one run at ``epoch`` (its last validated epoch when None).

    Raises:
        FileNotFoundError: If the work dir has no ``scalars.json``.
        ValueError: If the run has no validation record, or none at ``epoch``.
    """
    path = find_scalars(work_dir)
    _, val = read_scalars(path)
    epochs = sorted({step for series in val.values() for step, _ in series})
    if not epochs:
        raise ValueError(f'{path}: no validation record (lines without "iter")')
    chosen = epochs[-1] if epoch is None else float(epoch)
    if chosen not in epochs:
        raise ValueError(f'{path}: no validation at epoch {epoch}; validated epochs: '
                         f'{[int(e) for e in epochs]}')
    # the last record logged at that epoch wins (a repeated validation of the same epoch)
    return {key: [v for step, v in series if step == chosen][-1]
            for key, series in val.items()
            if key not in TIMING_KEYS and any(step == chosen for step, _ in series)}


def aggregate(runs: Sequence[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """``{key: {n, mean, std, min, max}}`` over the runs that logged the key.

    ``std`` is the sample standard deviation (ddof=1), NaN for a single run.
    """
    keys = sorted({key for run in runs for key in run})
    stats = {}
    for key in keys:
        values = [run[key] for run in runs if key in run]
        n = len(values)
        mean = sum(values) / n
        std = (math.sqrt(sum((v - mean)**2 for v in values) / (n - STD_DDOF))
               if n > STD_DDOF else math.nan)
        stats[key] = dict(n=n, mean=mean, std=std, min=min(values), max=max(values))
    return stats


def markdown_table(stats: Dict[str, Dict[str, float]]) -> str:
    """One row per key: n, mean, std (ddof=1), min, max."""
    lines = ['| key | n | mean | std (ddof=1) | min | max |',
             '|---|---|---|---|---|---|']
    for key, s in stats.items():
        std = '' if math.isnan(s['std']) else f"{s['std']:.4f}"
        lines.append(f"| {key} | {s['n']} | {s['mean']:.4f} | {std} | {s['min']:.4f} | "
                     f"{s['max']:.4f} |")
    return '\n'.join(lines) + '\n'


def main(argv=None) -> Dict[str, Dict[str, float]]:
    args = parse_args(argv)
    runs: List[Dict[str, float]] = [run_metrics(d, args.epoch) for d in args.work_dirs]
    if args.keys is not None:
        absent = [k for k in args.keys if not any(k in run for run in runs)]
        if absent:
            raise KeyError(f'keys {absent} are in no run\'s validation record; logged: '
                           f'{sorted({k for run in runs for k in run})}')
        runs = [{k: v for k, v in run.items() if k in args.keys} for run in runs]
    stats = aggregate(runs)
    out = args.out or osp.normpath(args.work_dirs[0]) + '_aggregate'
    table = markdown_table(stats)
    with open(out + '.json', 'w') as file:
        json.dump(dict(work_dirs=list(args.work_dirs), epoch=args.epoch, std_ddof=STD_DDOF,
                       metrics={k: {**s, 'std': None if math.isnan(s['std']) else s['std']}
                                for k, s in stats.items()}), file, indent=2)
    with open(out + '.md', 'w') as file:
        file.write(table)
    print(f'{len(runs)} runs, epoch {"last" if args.epoch is None else args.epoch}, '
          f'sample std (ddof=1)')
    print(table, end='')
    print(f'wrote {out}.json and {out}.md')
    return stats


if __name__ == '__main__':
    main()
