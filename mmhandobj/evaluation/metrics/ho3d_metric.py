"""HO3D hand metric: the CodaLab submission files and the official scorer's numbers."""
import json
import os
import os.path as osp
import zipfile
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmhandobj.registry import METRICS
from mmhandobj.structures.geometry import opencv_to_opengl
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS, convert_joint_order
from mmhandobj.structures.sample_fields import get_instance, get_meta
from mmhandobj.utils.checkpoint import atomic_write_bytes

from ..functional import (
    HO3D_EVAL_SIZES,
    NAN_POLICIES,
    finite_sample_mask,
    format_ho3d_scores,
    ho3d_scores,
    load_ho3d_gt,
    point_distances,
    root_relative_to_camera,
)
from .hand_joints2d import hand_joints2d_pair, hand_joints2d_scores
from .subsets import subset_means, subset_tags

#: Fingertip joints (thumb, index, middle, ring, pinky) in the 'simple' order.
_SIMPLE_TIPS = [4, 8, 12, 16, 20]
_COUNT_CHECKS = ('warn', 'raise', 'ignore')
_M_TO_CM = 100.0


@METRICS.register_module()
class HO3DMetric(BaseMetric):
    """Write the HO3D server submission and compute the official scorer's numbers.

    Predictions (``pred_instances.hand_joints3d`` / ``hand_verts3d``: metres, wrist-centred,
    'simple' order, network frame) are un-mirrored (``x *= -1`` when metainfo ``flip``), moved
    to the camera with ``gt_instances.root_joint``, reordered to HO3D ('mano') order and
    converted to OpenGL (``diag(1, -1, -1)``), then sorted by metainfo ``sample_idx``.

    * With an ``out_dir`` (a runner gives one, see ``out_dir`` below): writes ``pred.json``
      (``[xyz_list, verts_list]``) and ``pred.zip`` (``pred.json`` at the archive root, ready
      for CodaLab).
    * With ``gt_dir`` (holding the released ``evaluation_xyz.json`` and
      ``evaluation_verts.json``): computes every number of the official ``scores.txt`` and,
      with ``out_dir``, writes ``scores.txt`` in the official layout.
    * Without ``gt_dir`` but with ``gt_instances.hand_joints3d_cam`` and ``hand_verts3d_cam`` on
      every sample (a local validation split): computes the same numbers from those.
    * Otherwise only the submission is written and no number is returned.
    * With ``pred_instances.hand_joints2d_img`` and ``gt_instances.hand_joints3d_cam`` on every
      sample: also the 2D joint error in original-image pixels (after un-mirroring),
      ``joints2d_EPE_px``, ``joints2d_PCK_{5,10,20}px`` and ``joints2d_AUC_30px`` (see
      :func:`~mmhandobj.evaluation.metrics.hand_joints2d.hand_joints2d_scores`).

    Returned keys are the official ones and units: ``*_mean3d`` in **cm**, ``*_auc3d`` and
    ``f_*score_*`` as fractions (``xyz_procrustes_al_mean3d`` x 10 is the PA-MPJPE in mm that
    papers quote; ``f_al_score_5`` / ``f_al_score_15`` are their F@5 / F@15).

    Subsets (``subsets=True``, on by default): ``xyz_mean3d`` and ``xyz_procrustes_al_mean3d``
    (cm, the official keys' per-frame means) over each subset of
    :mod:`~mmhandobj.evaluation.metrics.subsets` as ``subset/<subset>/<key>``, with the frame
    count as ``subset/<subset>/frames``; the official keys are unchanged.

    Non-finite predictions: with ``nan_policy='exclude'`` (default) the affected samples are
    logged (count and ``sample_idx``) and left out of the scores; they are written to
    ``pred.json`` as all-zero frames so that the file keeps the server's frame count. With
    ``'raise'`` a ValueError names them.

    Args:
        out_dir: Folder for ``pred.json``, ``pred.zip`` and ``scores.txt``. None (what configs
            give): the run's ``<work_dir>/val`` or ``<work_dir>/test``, set by
            :class:`~mmhandobj.engine.MetricOutDirHook` when a runner runs the metric; a metric
            used outside a runner then writes nothing.
        gt_dir: Folder with the released GT JSON files, or None.
        version: ``'v2'`` or ``'v3'``: sets the expected frame count (11,524 / 20,137); None
            for no default count.
        expected_count: Expected number of frames; overrides ``version``.
        count_check: What a frame count other than the expected one does: ``'warn'``,
            ``'raise'`` or ``'ignore'``.
        fingertips: Where the five fingertip joints come from: ``'joints'`` (the predicted
            joints as they are) or a vertex convention of
            :data:`~mmhandobj.structures.joint_orders.FINGERTIP_VERTS` (``'ho3d'``,
            ``'manopth'``, ``'smplx'``) to take them from the predicted vertices (right-hand
            ids: the network always predicts a right hand).
        nan_policy: ``'exclude'`` or ``'raise'`` (see above).
        num_workers: Threads for the F-score nearest-neighbour searches (-1: all CPUs).
        subsets: Add the subset keys (see above).
        collect_device: See :class:`mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix; defaults to ``'ho3d'``.
    """

    default_prefix: Optional[str] = 'ho3d'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 gt_dir: Optional[str] = None,
                 version: Optional[str] = 'v2',
                 expected_count: Optional[int] = None,
                 count_check: str = 'warn',
                 fingertips: str = 'joints',
                 nan_policy: str = 'exclude',
                 num_workers: int = 1,
                 subsets: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}')
        if version is not None and version not in HO3D_EVAL_SIZES:
            raise ValueError(f'version must be one of {sorted(HO3D_EVAL_SIZES)} or None, '
                             f'got {version!r}')
        if count_check not in _COUNT_CHECKS:
            raise ValueError(f'count_check must be one of {_COUNT_CHECKS}, got {count_check!r}')
        if fingertips != 'joints' and fingertips not in FINGERTIP_VERTS:
            raise ValueError(f"fingertips must be 'joints' or one of {sorted(FINGERTIP_VERTS)}, "
                             f'got {fingertips!r}')
        if gt_dir is not None and not osp.isdir(gt_dir):
            raise FileNotFoundError(f'HO3DMetric gt_dir does not exist: {gt_dir}')
        self.out_dir = out_dir
        self.gt_dir = gt_dir
        self.expected_count = expected_count if expected_count is not None else (
            HO3D_EVAL_SIZES[version] if version is not None else None)
        self.count_check = count_check
        self.fingertips = fingertips
        self.nan_policy = nan_policy
        self.num_workers = num_workers
        self.subsets = subsets

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the predictions, root, flip flag and (when present) GT of each sample."""
        for sample in data_samples:
            joints = get_instance(sample, 'pred_instances', 'hand_joints3d', (21, 3))
            verts = get_instance(sample, 'pred_instances', 'hand_verts3d', (778, 3))
            if self.fingertips != 'joints':
                joints = joints.copy()
                joints[_SIMPLE_TIPS] = verts[FINGERTIP_VERTS[self.fingertips]['right']]
            self.results.append(dict(
                sample_idx=int(get_meta(sample, 'sample_idx')),
                joints=joints,
                verts=verts,
                root=get_instance(sample, 'gt_instances', 'root_joint', (3, )),
                flip=bool(get_meta(sample, 'flip', False, required=False)),
                gt_joints=get_instance(sample, 'gt_instances', 'hand_joints3d_cam', (21, 3),
                                       required=False),
                gt_verts=get_instance(sample, 'gt_instances', 'hand_verts3d_cam', (778, 3),
                                      required=False),
                joints2d=hand_joints2d_pair(sample),
                tags=subset_tags(sample)))

    def _check_count(self, count: int) -> None:
        if self.expected_count is None or count == self.expected_count:
            return
        message = (f'HO3DMetric received {count} samples but the evaluation split has '
                   f'{self.expected_count}; the server will reject this submission')
        if self.count_check == 'raise':
            raise ValueError(message)
        if self.count_check == 'warn':
            MMLogger.get_current_instance().warning(message)

    def _write_submission(self, xyz: np.ndarray, verts: np.ndarray) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        json_path = osp.join(self.out_dir, 'pred.json')
        # atomic: a full disk raises naming the file and leaves no truncated pred.json
        atomic_write_bytes(json.dumps([xyz.tolist(), verts.tolist()]).encode(), json_path)
        zip_path = osp.join(self.out_dir, 'pred.zip')
        try:
            with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as archive:
                archive.write(json_path, arcname='pred.json')
        except OSError as err:
            raise OSError(err.errno, f'cannot write {zip_path}: {err.strerror or err}',
                          zip_path) from err
        MMLogger.get_current_instance().info(
            f'HO3D submission written to {json_path} and pred.zip ({len(xyz)} frames)')

    def _ground_truth(self, results: List[dict], count: int):
        """GT joints and vertices (metres, OpenGL, HO3D order), or None when unavailable."""
        if self.gt_dir is not None:
            gt_xyz, gt_verts = load_ho3d_gt(self.gt_dir)
            if len(gt_xyz) != count:
                raise ValueError(f'HO3DMetric: {count} predictions but {self.gt_dir} holds GT '
                                 f'for {len(gt_xyz)} frames; they must match')
            return gt_xyz, gt_verts
        has_gt = [r['gt_joints'] is not None and r['gt_verts'] is not None for r in results]
        if not any(has_gt):
            return None
        if not all(has_gt):
            missing = [r['sample_idx'] for r, ok in zip(results, has_gt) if not ok][:20]
            raise ValueError('HO3DMetric: gt_instances.hand_joints3d_cam/hand_verts3d_cam are '
                             'present on some samples but missing on others (e.g. sample_idx '
                             f'{missing})')
        gt_xyz = convert_joint_order(np.stack([r['gt_joints'] for r in results]), 'simple',
                                     'mano')
        gt_verts = np.stack([r['gt_verts'] for r in results])
        return opencv_to_opengl(gt_xyz), opencv_to_opengl(gt_verts)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Write the submission and return the official scores (empty without GT)."""
        results = sorted(results, key=lambda r: r['sample_idx'])
        ids = [r['sample_idx'] for r in results]
        if len(set(ids)) != len(ids):
            raise ValueError('HO3DMetric: duplicate sample_idx values in the results')
        self._check_count(len(results))
        flip = np.array([r['flip'] for r in results])
        roots = np.stack([r['root'] for r in results])
        xyz = convert_joint_order(
            root_relative_to_camera(np.stack([r['joints'] for r in results]), roots, flip),
            'simple', 'mano')
        xyz = opencv_to_opengl(xyz)
        verts = opencv_to_opengl(
            root_relative_to_camera(np.stack([r['verts'] for r in results]), roots, flip))
        valid = finite_sample_mask([xyz, verts], ids, self.nan_policy, 'HO3DMetric predictions')

        if self.out_dir is not None:
            self._write_submission(np.where(valid[:, None, None], xyz, 0.0),
                                   np.where(valid[:, None, None], verts, 0.0))
        ground_truth = self._ground_truth(results, len(results))
        if ground_truth is None:
            MMLogger.get_current_instance().info(
                'HO3DMetric: no ground truth (gt_dir or gt_instances), no scores computed')
            return {}
        gt_xyz, gt_verts = ground_truth
        scores = ho3d_scores(xyz[valid], verts[valid], gt_xyz[valid], gt_verts[valid],
                             workers=self.num_workers)
        if self.out_dir is not None:
            with open(osp.join(self.out_dir, 'scores.txt'), 'w') as file:
                file.write(format_ho3d_scores(scores))
        scores.update(hand_joints2d_scores([r['joints2d'] for r in results], ids,
                                           self.nan_policy, 'HO3DMetric'))
        if self.subsets:
            per_frame = {
                key: point_distances(xyz[valid], gt_xyz[valid], alignment).mean(1) * _M_TO_CM
                for key, alignment in (('xyz_mean3d', 'none'),
                                       ('xyz_procrustes_al_mean3d', 'procrustes'))}
            scores.update(subset_means(
                per_frame, [r['tags'] for r, ok in zip(results, valid) if ok]))
        return scores
