"""Convert a raw DexYCB download (or HFL-style JSONs) into mmhandobj annotation files.

Examples:
    python tools/dataset_converters/dexycb.py data/dexycb --mano-root data/mano --setups s0
    python tools/dataset_converters/dexycb.py data/dexycb --mano-root data/mano \
        --hfl-json data/dexycb/dex_ycb_s0_train_data.json --splits train
"""
import argparse
import os.path as osp
import time

from mmhandobj.datasets.converters import (
    DEXYCB_SETUPS,
    DEXYCB_SPLITS,
    convert_dexycb,
    convert_dexycb_hfl_json,
)
from mmhandobj.utils.paths import refuse_overwrite


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the official DexYCB layout (DEX_YCB_DIR) into mmhandobj '
        'annotation files <out-dir>/dexycb_<setup>_<split>.npz, with the dex-ycb-toolkit '
        'split rules (the 100-sequences-per-subject assert is relaxed unless --strict). MANO '
        'PCA poses become axis-angle (needs MANO_RIGHT.pkl and MANO_LEFT.pkl). With '
        '--hfl-json, an HFL-Net style dex_ycb_<setup>_<split>_data.json is converted instead '
        '(its amodal object_render masks are used). Prints the frame counts.')
    parser.add_argument('root', help='DexYCB root folder (DEX_YCB_DIR)')
    parser.add_argument('--mano-root', required=True,
                        help='folder with MANO_RIGHT.pkl and MANO_LEFT.pkl')
    parser.add_argument('--out-dir', default=None,
                        help='output folder (default: <root>/annotations)')
    parser.add_argument('--setups', nargs='+', default=['s0'], choices=DEXYCB_SETUPS,
                        help='setups to convert (default s0)')
    parser.add_argument('--splits', nargs='+', default=list(DEXYCB_SPLITS),
                        choices=DEXYCB_SPLITS, help='splits to convert (default: all three)')
    parser.add_argument('--strict', action='store_true',
                        help='require exactly 100 sequences per subject like the toolkit')
    parser.add_argument('--hfl-json', default=None,
                        help='convert this HFL-style JSON (one setup and split) instead of '
                        'the raw layout')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    if args.hfl_json:
        if len(args.setups) != 1 or len(args.splits) != 1:
            raise SystemExit('--hfl-json converts one file: give one --setups and one --splits')
        out_file = osp.join(out_dir, f'dexycb_{args.setups[0]}_{args.splits[0]}.npz')
        refuse_overwrite([args.hfl_json], [out_file])
        counts = convert_dexycb_hfl_json(args.hfl_json, args.root, out_file, args.mano_root,
                                         args.setups[0], args.splits[0])
        print(f'{args.hfl_json}: {counts} -> {out_file}')
        return
    for setup in args.setups:
        for split in args.splits:
            out_file = osp.join(out_dir, f'dexycb_{setup}_{split}.npz')
            start = time.perf_counter()
            counts = convert_dexycb(args.root, out_file, args.mano_root, setup, split,
                                    args.strict)
            print(f'{setup}/{split}: {counts} -> {out_file} '
                  f'({time.perf_counter() - start:.1f} s)')


if __name__ == '__main__':
    main()
