"""Benchmark the synthetic-world generator: frames per second, per stage.

Example::

    python tools/analysis_tools/benchmark_synthetic.py --num-frames 300

prints the wall time and frames/s of a full HO3D and DexYCB world with 1 and 2 worker
processes (into a temporary folder, deleted afterwards), and the time of the rasteriser alone.
"""
import argparse
import os
import tempfile
import time

import numpy as np
import torch

from mmhandobj.models.mano import ManoLayer
from mmhandobj.synthetic import make_synthetic_world, rasterize


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Time the synthetic-world generator (HO3D and DexYCB layouts) and its '
        'rasteriser on this machine; prints frames/s. Set OMP_NUM_THREADS to pin threads.')
    parser.add_argument('--num-frames', type=int, default=300,
                        help='frames per world (default 300)')
    parser.add_argument('--formats', nargs='+', default=['ho3d', 'dexycb'],
                        choices=['ho3d', 'dexycb'], help='layouts to time')
    parser.add_argument('--seed', type=int, default=0, help='world seed')
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2],
                        help='process counts to time (default: 1 2)')
    return parser.parse_args()


def time_rasterizer(repeats: int = 20) -> float:
    """Seconds per rasterisation of one stand-in hand at 0.5 m in a 640x480 image."""
    layer = ManoLayer(use_pca=False, flat_hand_mean=True, units='m', standin_seed=0)
    pose = torch.zeros(1, 48)
    pose[0, :3] = torch.tensor([0.0, 1.6, 0.3])
    with torch.no_grad():
        verts, _ = layer(pose, torch.zeros(1, 10), torch.tensor([[0.0, 0.0, 0.5]]))
    verts = verts[0].numpy().astype(np.float64)
    faces = layer.th_faces.numpy()
    K = np.array([[615.0, 0.0, 320.0], [0.0, 615.0, 240.0], [0.0, 0.0, 1.0]])
    start = time.perf_counter()
    for _ in range(repeats):
        rasterize(verts, faces, K, (480, 640))
    return (time.perf_counter() - start) / repeats


def main() -> None:
    args = parse_args()
    print(f'rasteriser, one hand (1538 faces): {1000 * time_rasterizer():.1f} ms')
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in args.formats:
            for workers in args.workers:
                out = os.path.join(tmp, f'{fmt}_{workers}')
                start = time.perf_counter()
                summary = make_synthetic_world(fmt, out, args.num_frames, seed=args.seed,
                                               workers=workers)
                elapsed = time.perf_counter() - start
                images = sum(summary['frames'].values())
                print(f'{fmt}, {workers} worker(s): {images} annotated images in '
                      f'{elapsed:.1f} s = {images / elapsed:.1f} frames/s')


if __name__ == '__main__':
    main()
