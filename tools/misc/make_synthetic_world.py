"""Generate the synthetic hand-object world in the HO3D or DexYCB on-disk layout.

Example::

    python tools/misc/make_synthetic_world.py --format ho3d --out data/synthetic/ho3d \
        --num-frames 300 --seed 0

writes ``data/synthetic/ho3d`` (HO3D layout + ``models/`` + stand-in ``mano/``) and prints the
summary (frames and sequences per split).
"""
import argparse
import json
import time

from mmhandobj.synthetic import make_synthetic_world


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Render a synthetic hand-object dataset (stand-in MANO hand grasping '
        'YCB-like objects) written in the real HO3D or DexYCB layout, with the object models '
        '(<out>/models) and the stand-in MANO files (<out>/mano, seed 0). The folder appears '
        'only when complete and then holds the marker file <out>/.complete.')
    parser.add_argument('--format', required=True, choices=['ho3d', 'dexycb'],
                        help='on-disk layout to write')
    parser.add_argument('--out', required=True, help='dataset root to create (must not '
                        'exist, or be empty)')
    parser.add_argument('--num-frames', type=int, required=True,
                        help='HO3D: annotated frames (train + evaluation, >= 4); DexYCB: '
                        'roughly the rendered camera images (>= 50 in relaxed mode)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--version', default='v2', choices=['v2', 'v3'],
                        help='HO3D version: v2 (png, float32) or v3 (jpg, float64, extra keys)')
    parser.add_argument('--strict', action='store_true',
                        help='DexYCB: 100 sequence folders per subject and 8 cameras, as the '
                        'unmodified dex-ycb-toolkit requires')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes rendering sequences in parallel (default 1); the '
                        'output does not depend on it')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    start = time.perf_counter()
    summary = make_synthetic_world(args.format, args.out, args.num_frames, seed=args.seed,
                                   version=args.version, strict=args.strict,
                                   workers=args.workers)
    elapsed = time.perf_counter() - start
    print(json.dumps({k: v for k, v in summary.items() if k != 'sequences'}, indent=1))
    print('sequences:', {split: len(seqs) for split, seqs in summary['sequences'].items()})
    print(f'wrote {summary["root"]} in {elapsed:.1f} s')


if __name__ == '__main__':
    main()
