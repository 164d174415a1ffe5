"""Time the HO3D scorer on an evaluation-sized random set and check it against a slow loop.

Example::

    OMP_NUM_THREADS=2 python tools/analysis_tools/benchmark_metrics.py --num-workers 2

generates random but plausible hands (21 joints and 778 vertices per frame around a camera-frame
wrist; predictions = GT + rotation/scale/translation/noise perturbations), times
:func:`mmhandobj.evaluation.functional.ho3d_scores` (every number of the official scores.txt:
3 joint alignments, 2 mesh errors, 4 F-scores) on all frames, optionally also the JSON round
trip of ``tools/analysis_tools/ho3d_eval.py``, then scores a subset with the slow per-frame
reference loop of the tests (the official eval.py formulas with brute-force nearest neighbours)
and prints the largest difference per key and the extrapolated speed-up.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np
from scipy.spatial.transform import Rotation

from mmhandobj.evaluation.functional import (
    HO3D_EVAL_SIZES,
    HO3D_SCORE_KEYS,
    format_ho3d_scores,
    ho3d_scores,
    load_ho3d_gt,
    load_ho3d_pred,
)

REFERENCE_DIR = osp.join(osp.dirname(__file__), '..', '..', 'tests', 'test_evaluation')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the HO3D scorer (joints + 778 vertices + all F-scores) on a '
        'random evaluation-sized set, print the time, and compare with the slow reference '
        'loop of tests/test_evaluation on a subset. Limit threads with OMP_NUM_THREADS.')
    parser.add_argument('--frames', type=int, default=HO3D_EVAL_SIZES['v2'],
                        help='number of frames (default: HO3D v2 evaluation size)')
    parser.add_argument('--num-workers', type=int, default=2,
                        help='threads for the nearest-neighbour searches')
    parser.add_argument('--check-frames', type=int, default=30,
                        help='frames scored by the slow reference loop (0 to skip)')
    parser.add_argument('--json', action='store_true',
                        help='also time writing/reading pred.json and the GT files')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args()


def plausible_hands(num: int, seed: int):
    """GT and predicted joints / vertices (metres, OpenGL camera) for ``num`` frames."""
    rng = np.random.default_rng(seed)
    root = rng.uniform([-0.15, -0.15, -0.8], [0.15, 0.15, -0.35], size=(num, 1, 3))
    rot = Rotation.random(num, random_state=seed).as_matrix()
    gt_xyz = root + np.einsum('nij,nkj->nki', rot, rng.normal(scale=0.035, size=(num, 21, 3)))
    gt_verts = root + np.einsum('nij,nkj->nki', rot, rng.normal(scale=0.035, size=(num, 778, 3)))
    error = Rotation.from_rotvec(rng.normal(scale=0.1, size=(num, 3))).as_matrix()
    scale = rng.uniform(0.9, 1.1, size=(num, 1, 1))
    shift = rng.normal(scale=0.01, size=(num, 1, 3))

    def perturb(points):
        centred = points - root
        moved = scale * np.einsum('nij,nkj->nki', error, centred) + root + shift
        return moved + rng.normal(scale=0.004, size=points.shape)

    return perturb(gt_xyz), perturb(gt_verts), gt_xyz, gt_verts


def main() -> None:
    args = parse_args()
    pred_xyz, pred_verts, gt_xyz, gt_verts = plausible_hands(args.frames, args.seed)
    print(f'{args.frames} frames, {args.num_workers} worker threads')
    start, cpu_start = time.perf_counter(), time.process_time()
    scores = ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts, workers=args.num_workers)
    fast, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(format_ho3d_scores(scores), end='')
    print(f'scoring from arrays: wall {fast:.2f} s ({args.frames / fast:.0f} frames/s), '
          f'CPU {cpu:.2f} s over all threads (load average now {os.getloadavg()[0]:.1f})')

    if args.json:
        with tempfile.TemporaryDirectory() as tmp:
            with open(osp.join(tmp, 'pred.json'), 'w') as file:
                json.dump([pred_xyz.tolist(), pred_verts.tolist()], file)
            with open(osp.join(tmp, 'evaluation_xyz.json'), 'w') as file:
                json.dump(gt_xyz.tolist(), file)
            with open(osp.join(tmp, 'evaluation_verts.json'), 'w') as file:
                json.dump(gt_verts.tolist(), file)
            start = time.perf_counter()
            loaded = load_ho3d_pred(osp.join(tmp, 'pred.json')) + load_ho3d_gt(tmp)
            load_time = time.perf_counter() - start
            from_files = ho3d_scores(*loaded, workers=args.num_workers)
            total = time.perf_counter() - start
        same = all(from_files[key] == scores[key] for key in HO3D_SCORE_KEYS)
        print(f'with JSON loading (tool path): {total:.2f} s (loading {load_time:.2f} s); '
              f'numbers identical to the in-memory run: {same}')

    if args.check_frames > 0:
        sys.path.insert(0, REFERENCE_DIR)
        from _reference_scorers import ref_ho3d_scores
        count = min(args.check_frames, args.frames)
        subset = [a[:count] for a in (pred_xyz, pred_verts, gt_xyz, gt_verts)]
        start = time.perf_counter()
        expected = ref_ho3d_scores(*subset)
        slow = time.perf_counter() - start
        batched = ho3d_scores(*subset, workers=args.num_workers)
        worst = max(abs(batched[key] - expected[key]) for key in HO3D_SCORE_KEYS)
        printed_equal = format_ho3d_scores(batched) == format_ho3d_scores(expected)
        print(f'reference loop on {count} frames: {slow:.2f} s; largest difference '
              f'{worst:.2e}; scores.txt text identical: {printed_equal}')
        slow_total = slow / count * args.frames
        print(f'extrapolated reference time for {args.frames} frames: {slow_total:.0f} s, '
              f'speed-up x{slow_total / fast:.0f}')


if __name__ == '__main__':
    main()
