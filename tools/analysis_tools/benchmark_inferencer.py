"""Frames per second of HandObjectInferencer end to end, with a per-stage breakdown.

Runs the inferencer over the frames of one sequence (a folder read as a video: MP4 and JSON
lines written to a temporary folder) with ``profile=True`` and prints the mean milliseconds per
frame of each stage: decode, detect, crop (the test pipeline the inferencer runs around the
model: ``inference_handobj`` minus ``model.test_step``), network (``model.test_step`` minus
the two solvers), PnP (``solve_object_pose``), root solve (``solve_hand_root``), record
(smoothing, JSON fields), mesh, draw and encode. The solvers are timed by wrapping the two
functions where the heads call them; ``other`` is the wall time no stage accounts for (the
inferencer's bookkeeping).

Example (the quick-start world and checkpoint, given boxes):
    python tools/analysis_tools/benchmark_inferencer.py configs/hfl/hfl_r18_synthetic.py \\
        work_dirs/hfl_r18_synthetic/epoch_10.pth data/synthetic/ho3d/train/<SEQ>/rgb \\
        --hand-bbox 262 161 358 320 --obj-bbox 183 160 396 320 --threads 2
"""
import argparse
import tempfile
import time
from collections import defaultdict

import torch

from mmhandobj.apis import HandObjectInferencer
from mmhandobj.models.heads import hand_mano_head, object_keypoint_head

#: Stages printed, in pipeline order.
STAGES = ('decode', 'detect', 'crop', 'network', 'pnp', 'root_solve', 'record', 'mesh', 'draw',
          'encode')
#: Functions timed inside ``model.test_step``: (module the head calls it from, name, stage).
SOLVERS = ((object_keypoint_head, 'solve_object_pose', 'pnp'),
           (hand_mano_head, 'solve_hand_root', 'root_solve'))
#: Frames run first and left out of the figures (allocator and cache warm-up).
WARMUP_FRAMES = 4


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='model config or model-zoo name')
    parser.add_argument('checkpoint', nargs='?', help='checkpoint (default: random weights)')
    parser.add_argument('frames', help='folder of the frames of one sequence')
    parser.add_argument('--det-config', help='detector config (else give both boxes)')
    parser.add_argument('--det-checkpoint', help='detector checkpoint')
    parser.add_argument('--hand-bbox', type=float, nargs=4, help='hand box, pixels')
    parser.add_argument('--obj-bbox', type=float, nargs=4, help='object box, pixels')
    parser.add_argument('--obj-name', help='object name (default: detected)')
    parser.add_argument('--cam-intr', type=float, nargs=4, help='fx fy cx cy, pixels')
    parser.add_argument('--num-frames', type=int, default=36, help='frames timed')
    parser.add_argument('--batch-size', type=int, default=4, help='frames per network pass')
    parser.add_argument('--threads', type=int, default=2, help='torch CPU threads')
    parser.add_argument('--meshes', action='store_true', help='also write PLY meshes')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    inferencer = HandObjectInferencer(args.config, args.checkpoint, args.det_config,
                                      args.det_checkpoint)
    model_time = {}
    solver_time = defaultdict(float)
    for module, name, stage in SOLVERS:
        setattr(module, name, _timed(getattr(module, name), stage, solver_time))
    test_step = inferencer.model.test_step

    def timed_test_step(data):
        solver_time.clear()
        start = time.perf_counter()
        out = test_step(data)
        model_time['last'] = (time.perf_counter() - start, dict(solver_time), len(out))
        return out
    inferencer.model.test_step = timed_test_step
    totals, frames = defaultdict(float), 0
    with tempfile.TemporaryDirectory() as out_dir:
        start = time.perf_counter()
        for rec in inferencer(args.frames, args.hand_bbox, args.obj_bbox, args.obj_name,
                              args.cam_intr, out_dir=out_dir, sequence=True, profile=True,
                              batch_size=args.batch_size, progress=False,
                              max_frames=WARMUP_FRAMES + args.num_frames,
                              mesh_formats=('ply', ) if args.meshes else ()):
            timing = rec['timing_s']
            if 'hfl' in timing and 'last' in model_time:
                seconds, solvers, num = model_time['last']
                timing['crop'] = timing.pop('hfl') - seconds / num
                timing['network'] = (seconds - sum(solvers.values())) / num
                for stage, spent in solvers.items():
                    timing[stage] = spent / num
            if rec['frame'] == WARMUP_FRAMES - 1:
                start = time.perf_counter()
            if rec['frame'] < WARMUP_FRAMES:
                continue
            frames += 1
            for stage, seconds in rec['timing_s'].items():
                totals[stage] += seconds
        wall = time.perf_counter() - start
    if frames == 0:
        raise SystemExit(f'{args.frames}: fewer than {WARMUP_FRAMES + 1} frames')
    print(f'{frames} frames, batch {args.batch_size}, {args.threads} threads: '
          f'{frames / wall:.2f} frames/s end to end ({1000 * wall / frames:.1f} ms/frame)')
    print('| stage | ms/frame |\n|---|---:|')
    for stage in STAGES:
        print(f'| {stage} | {1000 * totals[stage] / frames:.1f} |')
    owned = sum(totals[s] for s in STAGES)
    print(f'| other (bookkeeping) | {1000 * (wall - owned) / frames:.1f} |')
    model = max(totals['network'] + totals['pnp'] + totals['root_solve'], 1e-9)
    print(f'\ncrop pipeline around the model: {100 * totals["crop"] / model:.1f} % of '
          f'model.test_step; bookkeeping: {100 * (wall - owned) / model:.1f} %')


def _timed(function, stage: str, spent: dict):
    """``function`` that adds its run time in seconds to ``spent[stage]``."""
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[stage] += time.perf_counter() - start
    return wrapper


if __name__ == '__main__':
    main()
