"""Hand metrics without the ground-truth wrist: root error and absolute MPJPE on the solved root."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmhandobj.registry import METRICS
from mmhandobj.structures.sample_fields import get_instance, get_meta

from ..functional import NAN_POLICIES, finite_sample_mask, root_relative_to_camera

_M_TO_MM = 1000.0
#: GT field of the absolute hand joints (metres, original camera, 'simple' order).
GT_JOINTS_FIELD = 'hand_joints3d_cam'


def _distances_mm(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Euclidean distances along the last axis, metres in, mm out."""
    return np.linalg.norm(pred - gt, axis=-1) * _M_TO_MM


@METRICS.register_module()
class HandRootMetric(BaseMetric):
    """Where the hand is, without ground truth: the solved wrist against the GT wrist.

    HFL-Net and its peers predict a wrist-relative hand and add the GT wrist
    (``gt_instances.root_joint``) before scoring; a deployment has no GT wrist. This metric
    scores the model's own wrist, ``pred_instances.hand_root`` (metres, original camera, the
    fit of the predicted 3D joints to its predicted 2D joints,
    :func:`~mmhandobj.structures.geometry.solve_hand_root`). It sits next to the dataset's hand
    metric in an evaluator list (whose official numbers keep the GT-wrist protocol) and works on
    every dataset. Keys (prefix ``hand``):

    * ``root_error_mm``, ``root_error_median_mm``: mean / median distance between the solved
      and the GT wrist (the MRRPE of interacting-hand papers with the GT wrist as the
      reference), mm, over the frames with a solved root.
    * ``root_unsolved_count`` / ``root_unsolved_ratio``: frames whose wrist could not be solved
      (``hand_root`` NaN: no fit in front of the camera), of the frames with a GT wrist; they
      are left out of every other key.
    * ``MPJPE_abs_mm``: absolute MPJPE, mm: the predicted joints
      (``pred_instances.hand_joints3d``, un-mirrored when metainfo ``flip``) placed at the
      solved wrist, against ``gt_instances.joints3d``. ``MPJPE_abs_gtroot_mm``: the same
      joints placed at the GT wrist (the published protocol), on the same frames, as the
      reference. Both need the GT joints: a split that holds only the wrist (HO3D's
      evaluation split) gets the root keys alone, with a log line saying so; on a split
      that holds them on some frames only, the two MPJPE keys cover those frames.
    * ``frames_scored`` (solved root), ``frames_abs_scored`` (solved root and GT joints).

    Frames without a GT wrist (``root_joint`` missing, or NaN as on DexYCB frames without a
    hand) are skipped and counted in the log. Non-finite predicted joints: ``nan_policy`` as in
    the other metrics.

    Args:
        nan_policy: ``'exclude'`` or ``'raise'`` for non-finite ``hand_joints3d``.
        collect_device: See :class:`mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix; defaults to ``'hand'``.
    """

    default_prefix: Optional[str] = 'hand'

    def __init__(self,
                 nan_policy: str = 'exclude',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}')
        self.nan_policy = nan_policy

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the solved and GT wrists, the predicted joints and (when given) the GT joints."""
        for sample in data_samples:
            gt_root = get_instance(sample, 'gt_instances', 'root_joint', (3, ), required=False)
            if gt_root is None or not np.isfinite(gt_root).all():  # NaN: no hand (DexYCB)
                self.results.append(dict(no_root=True))
                continue
            self.results.append(dict(
                sample_idx=int(get_meta(sample, 'sample_idx')),
                root=np.asarray(gt_root, np.float64),
                pred_root=np.asarray(
                    get_instance(sample, 'pred_instances', 'hand_root', (3, )), np.float64),
                joints=get_instance(sample, 'pred_instances', 'hand_joints3d', (21, 3)),
                flip=bool(get_meta(sample, 'flip', False, required=False)),
                gt_joints=get_instance(sample, 'gt_instances', GT_JOINTS_FIELD, (21, 3),
                                       required=False)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return the root error (mm), the unsolved count and ratio and the absolute MPJPEs."""
        logger = MMLogger.get_current_instance()
        num_no_root = sum(1 for r in results if r.get('no_root'))
        results = sorted((r for r in results if not r.get('no_root')),
                         key=lambda r: r['sample_idx'])
        if num_no_root:
            logger.info(f'HandRootMetric: {num_no_root} frames without a GT wrist '
                        f'(gt_instances.root_joint) skipped, {len(results)} kept')
        if not results:
            raise ValueError(f'HandRootMetric: none of the {num_no_root} frames has a GT wrist '
                             '(gt_instances.root_joint) to score')
        ids = [r['sample_idx'] for r in results]
        valid = finite_sample_mask([np.stack([r['joints'] for r in results])], ids,
                                   self.nan_policy, 'HandRootMetric predictions')
        solved = np.array([np.isfinite(r['pred_root']).all() for r in results])
        if not solved.all():
            logger.warning(f'HandRootMetric: no wrist solved for {int((~solved).sum())} of '
                           f'{len(results)} frames (sample ids '
                           f'{[i for i, ok in zip(ids, solved) if not ok][:20]}); left out')
        scored = [r for r, ok in zip(results, valid & solved) if ok]
        if not scored:
            raise ValueError('HandRootMetric: no frame with a solved wrist and finite joints')
        root_error = _distances_mm(np.stack([r['pred_root'] for r in scored]),
                                   np.stack([r['root'] for r in scored]))
        scores = {
            'root_error_mm': float(root_error.mean()),
            'root_error_median_mm': float(np.median(root_error)),
            'root_unsolved_count': int((~solved).sum()),
            'root_unsolved_ratio': float((~solved).mean()),
            'frames_scored': len(scored),
        }
        with_joints = [r for r in scored if r['gt_joints'] is not None]
        if not with_joints:
            logger.info(f'HandRootMetric: no frame has gt_instances.{GT_JOINTS_FIELD} (a split '
                        'with the wrist only, e.g. HO3D evaluation): absolute MPJPE not '
                        'computed')
            return scores
        joints = np.stack([r['joints'] for r in with_joints])
        flip = np.array([r['flip'] for r in with_joints])
        gt_joints = np.stack([r['gt_joints'] for r in with_joints]).astype(np.float64)
        for key, root in (('MPJPE_abs_mm', 'pred_root'), ('MPJPE_abs_gtroot_mm', 'root')):
            placed = root_relative_to_camera(joints, np.stack([r[root] for r in with_joints]),
                                             flip)
            scores[key] = float(_distances_mm(placed, gt_joints).mean())
        scores['frames_abs_scored'] = len(with_joints)
        return scores
