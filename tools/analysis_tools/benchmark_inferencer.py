"""Frames per second of HandObjectInferencer end to end, with a per-stage breakdown.

Runs the inferencer over the frames of one sequence (a folder read as a video: MP4 and JSON
lines written to a temporary folder) with ``profile=True`` and prints the mean milliseconds per
frame of each stage: decode, detect, hfl (crop pipeline + network + PnP + root solve, i.e.
``inference_handobj``), of which ``model.test_step`` (network, PnP and root solve: the model's
own time), record (smoothing, JSON fields), mesh, draw and encode. ``hfl - test_step`` is the
crop pipeline the inferencer adds around the model; ``other`` is the wall time no stage
accounts for (the inferencer's bookkeeping).

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

STAGES = ('decode', 'detect', 'hfl', 'test_step', 'record', 'mesh', 'draw', 'encode')
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
    test_step = inferencer.model.test_step

    def timed_test_step(data):
        start = time.perf_counter()
        out = test_step(data)
        model_time['last'] = (time.perf_counter() - start, len(out))
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
            if 'hfl' in rec['timing_s'] and 'last' in model_time:
                seconds, num = model_time['last']
                rec['timing_s']['test_step'] = seconds / num
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
    owned = sum(totals[s] for s in STAGES if s != 'test_step')
    print(f'| other (bookkeeping) | {1000 * (wall - owned) / frames:.1f} |')
    crop = totals['hfl'] - totals['test_step']
    print(f'\ncrop pipeline around the model: {100 * crop / max(totals["test_step"], 1e-9):.1f} % '
          'of model.test_step; bookkeeping: '
          f'{100 * (wall - owned) / max(totals["test_step"], 1e-9):.1f} %')


if __name__ == '__main__':
    main()
