"""Write procedural stand-in MANO model files (NOT the real MANO model).

The real MANO_RIGHT.pkl / MANO_LEFT.pkl may not be redistributed (MANO licence). This tool
writes files with the same keys, shapes, dtypes and pickle layout (chumpy ``Ch`` shapedirs,
scipy CSC J_regressor, protocol 2) holding a procedurally generated hand, so that training,
testing and demos can run end to end without the real model. Results obtained with the
stand-in are meaningless for benchmarks against published numbers.
"""
import argparse
import os
import os.path as osp

from mmhandobj.synthetic import make_standin_mano


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Write stand-in MANO_RIGHT.pkl and MANO_LEFT.pkl (a procedural hand with '
        'the layout of the official MANO files; not MANO).')
    parser.add_argument('--out-dir', default='data/mano',
                        help='output folder (default: data/mano)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the random parts of the model (default: 0); '
                        'ManoLayer(standin_seed=SEED) builds the same arrays in memory')
    parser.add_argument('--force', action='store_true',
                        help='overwrite existing files (refused by default so that a real '
                        'MANO model is never replaced by accident)')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    for side, name in (('right', 'MANO_RIGHT.pkl'), ('left', 'MANO_LEFT.pkl')):
        path = osp.join(args.out_dir, name)
        if osp.exists(path) and not args.force:
            raise SystemExit(f'{path} exists; pass --force to overwrite it')
        make_standin_mano(path, side=side, seed=args.seed)
        print(f'wrote stand-in {side} hand model to {path} (seed {args.seed})')


if __name__ == '__main__':
    main()
