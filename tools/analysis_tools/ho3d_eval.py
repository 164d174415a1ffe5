"""Score an HO3D ``pred.json`` against the released GT, as the official scorer does.

Example::

    python tools/analysis_tools/ho3d_eval.py work_dirs/x/pred.json data/ho3d_gt work_dirs/x

reads ``GT_DIR/evaluation_xyz.json`` and ``GT_DIR/evaluation_verts.json``, computes every
number of ``shreyashampali/ho3d`` ``eval.py`` (same formulas, batched, k-d tree F-scores) and
writes ``OUT_DIR/scores.txt`` in the official layout (means in cm, AUCs and F-scores as
fractions, ``%f``). The scores are also printed.
"""
import argparse
import os
import os.path as osp
import time

import numpy as np
from mmengine.logging import MMLogger

from mmhandobj.evaluation.functional import (
    HO3D_EVAL_SIZES,
    HO3D_GT_FILES,
    NAN_POLICIES,
    finite_sample_mask,
    format_ho3d_scores,
    ho3d_scores,
    load_ho3d_gt,
    load_ho3d_pred,
)
from mmhandobj.utils.paths import refuse_overwrite


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Score an HO3D pred.json ([xyz_list, verts_list], metres, OpenGL, HO3D '
        'joint order) against GT_DIR/evaluation_xyz.json and GT_DIR/evaluation_verts.json '
        'with the formulas of the official HO3D scorer, and write OUT_DIR/scores.txt in its '
        'layout: joint/mesh errors (cm) and AUCs unaligned, Procrustes-aligned and '
        'scale-translation aligned, F@5mm/F@15mm raw and aligned.')
    parser.add_argument('pred_json', help='prediction file, e.g. pred.json')
    parser.add_argument('gt_dir', help='folder with evaluation_xyz.json and evaluation_verts.json')
    parser.add_argument('out_dir', help='folder where scores.txt is written')
    parser.add_argument('--num-workers', type=int, default=-1,
                        help='threads for the F-score nearest-neighbour search (-1: all CPUs)')
    parser.add_argument('--nan-policy', choices=NAN_POLICIES, default='exclude',
                        help='frames with NaN/inf predictions: exclude them from the scores '
                        'with a warning listing them (default), or raise')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logger = MMLogger.get_instance('ho3d_eval')
    start = time.perf_counter()
    out_file = osp.join(args.out_dir, 'scores.txt')
    refuse_overwrite([args.pred_json, *(osp.join(args.gt_dir, name) for name in HO3D_GT_FILES)],
                     [out_file])
    gt_xyz, gt_verts = load_ho3d_gt(args.gt_dir)
    pred_xyz, pred_verts = load_ho3d_pred(args.pred_json)
    if len(pred_xyz) != len(gt_xyz):
        raise ValueError(f'{args.pred_json} has {len(pred_xyz)} frames but {args.gt_dir} has '
                         f'GT for {len(gt_xyz)}; the counts must be equal')
    if len(gt_xyz) not in HO3D_EVAL_SIZES.values():
        logger.warning(f'{len(gt_xyz)} frames is not an official evaluation size '
                       f'{HO3D_EVAL_SIZES}; the numbers are not comparable with the '
                       'leaderboard')
    if np.all(pred_xyz[..., 2] > 0):
        logger.warning('every predicted joint has z > 0: the file looks like OpenCV, not the '
                       'OpenGL convention the GT uses (multiply by diag(1, -1, -1))')
    loaded = time.perf_counter()
    valid = finite_sample_mask([pred_xyz, pred_verts], list(range(len(pred_xyz))),
                               args.nan_policy, args.pred_json)
    scores = ho3d_scores(pred_xyz[valid], pred_verts[valid], gt_xyz[valid], gt_verts[valid],
                         workers=args.num_workers)
    os.makedirs(args.out_dir, exist_ok=True)
    text = format_ho3d_scores(scores)
    with open(out_file, 'w') as file:
        file.write(text)
    print(text, end='')
    print(f'{int(valid.sum())} frames scored; loading {loaded - start:.1f} s, scoring '
          f'{time.perf_counter() - loaded:.1f} s; written to '
          f'{out_file}')


if __name__ == '__main__':
    main()
