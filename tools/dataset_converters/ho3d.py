"""Convert a raw HO-3D (v2/v3) download into mmhandobj annotation files.

Example:
    python tools/dataset_converters/ho3d.py data/ho3d --version v2
writes data/ho3d/annotations/ho3d_v2_train.npz and ho3d_v2_evaluation.npz. With
--hfl-json ho3d_train_data.json [--seg-label-root ho3d-process] the train file is built from
HFL-Net's preprocessed hand annotations (and masks).
"""
import argparse
import os.path as osp
import time

from mmhandobj.datasets.converters import HO3D_SPLITS, HO3D_VERSIONS, convert_ho3d
from mmhandobj.utils.paths import refuse_overwrite


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert the official HO-3D layout (train.txt, evaluation.txt, '
        '<split>/<SEQ>/{rgb,meta,seg}) into mmhandobj annotation files '
        '(<out-dir>/ho3d_<version>_<split>.npz: stacked per-frame arrays, OpenCV frame, '
        'simple joint order, object masks from seg/ as RLE). Prints the frame counts.')
    parser.add_argument('root', help='HO3D root folder (holds train.txt and evaluation.txt)')
    parser.add_argument('--out-dir', default=None,
                        help='output folder (default: <root>/annotations)')
    parser.add_argument('--version', default='v2', choices=HO3D_VERSIONS,
                        help='dataset version recorded in the file names (default v2)')
    parser.add_argument('--splits', nargs='+', default=list(HO3D_SPLITS), choices=HO3D_SPLITS,
                        help='splits to convert (default: train evaluation)')
    parser.add_argument('--allow-missing-seg', action='store_true',
                        help='train frames without seg/<FID>.jpg get no object mask '
                        '(counted) instead of an error')
    parser.add_argument('--hfl-json', default=None,
                        help='train split: take the frame list and hand annotations from an '
                        'HFL-Net ho3d_train_data.json (object poses still come from the metas)')
    parser.add_argument('--seg-label-root', default=None,
                        help='train split: read object masks from '
                        '<seg-label-root>/train_segLabel/<SEQ>/<FID>.png (HFL-Net / '
                        'Semi-Hand-Object) instead of seg/')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    out_dir = args.out_dir or osp.join(args.root, 'annotations')
    for split in args.splits:
        out_file = osp.join(out_dir, f'ho3d_{args.version}_{split}.npz')
        refuse_overwrite([args.hfl_json], [out_file])
        start = time.perf_counter()
        counts = convert_ho3d(args.root, out_file, split, args.version, args.allow_missing_seg,
                              args.hfl_json if split == 'train' else None,
                              args.seg_label_root if split == 'train' else None)
        print(f'{split}: {counts} -> {out_file} ({time.perf_counter() - start:.1f} s)')


if __name__ == '__main__':
    main()
