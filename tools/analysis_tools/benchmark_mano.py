"""Time the batched ManoLayer (forward, forward+backward) on CPU and/or CUDA.

Uses the procedural stand-in model unless ``--mano-root`` points at real MANO files. With
``--naive`` it also times a per-sample loop over the same layer (batch of 1, B calls) and
prints how many times slower that loop is than one batched call.
"""
import argparse
import statistics
import time
from typing import Callable, List

import torch

from mmhandobj.models.mano import ManoLayer
from mmhandobj.utils.cpu_malloc import retain_freed_memory


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark ManoLayer: median time of forward and forward+backward passes '
        'over several repeats (warm-up excluded), batched and optionally per-sample.')
    parser.add_argument('--batch', type=int, default=64, help='batch size (default: 64)')
    parser.add_argument('--device', default='auto', choices=['auto', 'cpu', 'cuda'],
                        help="'auto' = CPU, plus CUDA when available (default: auto)")
    parser.add_argument('--use-pca', action='store_true',
                        help='feed PCA coefficients (--ncomps) instead of 45 axis-angles')
    parser.add_argument('--ncomps', type=int, default=6, help='PCA components (default: 6)')
    parser.add_argument('--mano-root', default=None,
                        help='folder with MANO_RIGHT.pkl (default: the in-memory stand-in)')
    parser.add_argument('--repeats', type=int, default=20, help='timed repeats (default: 20)')
    parser.add_argument('--warmup', type=int, default=5, help='untimed warm-up runs (default: 5)')
    parser.add_argument('--naive', action='store_true',
                        help='also time a per-sample loop and print the slowdown ratio')
    parser.add_argument('--threads', type=int, default=None,
                        help='torch CPU threads (default: torch default)')
    parser.add_argument('--malloc-default', action='store_true',
                        help="keep glibc's allocator defaults (default: freed memory is retained "
                        'as the tools do, mmhandobj/utils/cpu_malloc.py)')
    return parser.parse_args(argv)


def median_ms(func: Callable[[], None], device: torch.device, warmup: int,
              repeats: int) -> float:
    """Median wall time of ``func`` in milliseconds (CUDA synchronised)."""
    for _ in range(warmup):
        func()
    times: List[float] = []
    for _ in range(repeats):
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        start = time.perf_counter()
        func()
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def benchmark(args: argparse.Namespace, device: torch.device) -> List[List[str]]:
    """Return table rows ``[device, mode, ms, samples/s]`` for one device."""
    if args.mano_root is None:
        layer = ManoLayer(use_pca=args.use_pca, ncomps=args.ncomps, standin_seed=0)
    else:
        layer = ManoLayer(mano_root=args.mano_root, use_pca=args.use_pca, ncomps=args.ncomps)
    layer = layer.to(device)
    width = 3 + (args.ncomps if args.use_pca else 45)
    generator = torch.Generator().manual_seed(0)
    pose = (0.5 * torch.randn(args.batch, width, generator=generator)).to(device)
    betas = torch.randn(args.batch, 10, generator=generator).to(device)

    def forward() -> None:
        with torch.no_grad():
            layer(pose, betas)

    def forward_backward() -> None:
        pose_var = pose.clone().requires_grad_()
        betas_var = betas.clone().requires_grad_()
        verts, joints = layer(pose_var, betas_var)
        (verts.sum() + joints.sum()).backward()

    def naive_forward() -> None:
        with torch.no_grad():
            torch.cat([layer(pose[i:i + 1], betas[i:i + 1])[0] for i in range(args.batch)])

    def naive_forward_backward() -> None:
        pose_var = pose.clone().requires_grad_()
        betas_var = betas.clone().requires_grad_()
        outs = [layer(pose_var[i:i + 1], betas_var[i:i + 1]) for i in range(args.batch)]
        sum(v.sum() + j.sum() for v, j in outs).backward()

    cases = [('forward', forward, naive_forward),
             ('forward+backward', forward_backward, naive_forward_backward)]
    rows = []
    for name, batched, naive in cases:
        ms = median_ms(batched, device, args.warmup, args.repeats)
        row = [device.type, name, f'{ms:.2f}', f'{args.batch / ms * 1000:.0f}', '', '']
        if args.naive:
            naive_ms = median_ms(naive, device, max(1, args.warmup // 2),
                                 max(3, args.repeats // 4))
            row[4:] = [f'{naive_ms:.2f}', f'{naive_ms / ms:.1f}x']
        rows.append(row)
    return rows


def main() -> None:
    args = parse_args()
    retained = False if args.malloc_default else retain_freed_memory()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    devices = [torch.device('cpu')] if args.device in ('auto', 'cpu') else []
    if args.device == 'cuda' or (args.device == 'auto' and torch.cuda.is_available()):
        if not torch.cuda.is_available():
            raise SystemExit('--device cuda requested but CUDA is not available')
        devices.append(torch.device('cuda'))
    model = args.mano_root or 'stand-in (seed 0)'
    pose_kind = f'PCA ({args.ncomps} comps)' if args.use_pca else 'axis-angle (45)'
    print(f'ManoLayer benchmark: model {model}, batch {args.batch}, pose {pose_kind}, '
          f'median of {args.repeats} runs after {args.warmup} warm-up, '
          f'{torch.get_num_threads()} CPU threads, malloc retains freed memory {retained}')
    if any(d.type == 'cuda' for d in devices):
        print(f'CUDA device: {torch.cuda.get_device_name(0)}')
    header = ['device', 'pass', 'batched ms', 'samples/s', 'per-sample loop ms', 'loop/batched']
    rows = [header] + [row for device in devices for row in benchmark(args, device)]
    if not args.naive:
        rows = [row[:4] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print('  '.join(cell.rjust(width) for cell, width in zip(row, widths)))


if __name__ == '__main__':
    main()
