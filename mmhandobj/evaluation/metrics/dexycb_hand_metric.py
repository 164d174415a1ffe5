"""DexYCB hand metric: HFL-Net / HandOccNet protocol and the dex-ycb-toolkit HPE protocol."""
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmhandobj.registry import METRICS
from mmhandobj.structures.sample_fields import get_instance, get_meta

from ..functional import (
    NAN_POLICIES,
    align_procrustes,
    align_umeyama,
    finite_sample_mask,
    point_error_measures,
    root_relative_to_camera,
)
from .hand_joints2d import hand_joints2d_pair, hand_joints2d_scores
from .subsets import subset_means, subset_tags

#: AUC thresholds of the dex-ycb-toolkit HPE evaluator: linspace(0, 50 mm, 100).
_TOOLKIT_AUC = (0.0, 50.0, 100)


def _distances(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum((pred - gt) ** 2, axis=-1))


@METRICS.register_module()
class DexYCBHandMetric(BaseMetric):
    """Hand joint errors on DexYCB.

    HFL-Net / HandOccNet protocol (always): the predicted root-relative joints
    (``pred_instances.hand_joints3d``, metres, 'simple' order) get ``x *= -1`` when metainfo
    ``flip`` is True, then ``gt_instances.root_joint`` is added; ``MPJPE_mm`` is the mean joint
    distance to ``gt_instances.hand_joints3d_cam`` and ``PA-MPJPE_mm`` the same after Umeyama
    alignment with reflections forbidden, both in mm, averaged over all samples with a hand.

    Frames without a hand (no ``gt_instances.hand_joints3d_cam``: DexYCB's ``joint_3d`` is all
    -1) are skipped, as the toolkit's HPE evaluator skips them and as HFL-Net's test lists leave
    them out; their number is logged and returned as ``frames_without_hand`` next to
    ``frames_scored``.

    2D joints (when every sample has ``pred_instances.hand_joints2d_img``): ``joints2d_EPE_px``,
    ``joints2d_PCK_{5,10,20}px`` and ``joints2d_AUC_30px`` in original-image pixels after
    un-mirroring, against ``gt_instances.hand_joints3d_cam`` projected with ``ori_cam_intr``.

    dex-ycb-toolkit protocol (with ``toolkit_result_file``): writes the toolkit's result file
    (one line per sample: the sample index, then 21 x (x, y, z) in mm, OpenCV camera, 'simple'
    order, i.e. 64 comma-separated numbers) and returns the toolkit's numbers on those values:
    ``toolkit_{absolute,root_relative,procrustes}_MPJPE_mm`` and ``..._AUC`` (a fraction, over
    ``linspace(0, 50 mm, 100)``; Procrustes = ``align_w_scale``, reflections allowed). As in
    the toolkit, the GT in mm is computed in float32 (``joint_3d *= 1000`` on the float32 label)
    before the float64 evaluation. The index written is metainfo ``index_key``, which must be
    the sample's index in the toolkit's ``get_dataset(name)``.

    Subsets (``subsets=True``, on by default): ``MPJPE_mm`` and ``PA-MPJPE_mm`` (HFL-Net
    protocol) over each subset of :mod:`~mmhandobj.evaluation.metrics.subsets` as
    ``subset/<subset>/<key>``, with the frame count as ``subset/<subset>/frames``; the keys
    above, the toolkit's included, are unchanged.

    Non-finite predictions: ``nan_policy='exclude'`` (default) logs their count and
    ``sample_idx`` and leaves them out of the means (and out of the result file); ``'raise'``
    raises a ValueError.

    Args:
        toolkit_result_file: Path of the toolkit result ``.txt`` to write, or None.
        index_key: Metainfo key holding the toolkit sample index.
        nan_policy: ``'exclude'`` or ``'raise'``.
        subsets: Add the subset keys (see above).
        collect_device: See :class:`mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix; defaults to ``'dexycb'``.
    """

    default_prefix: Optional[str] = 'dexycb'

    def __init__(self,
                 toolkit_result_file: Optional[str] = None,
                 index_key: str = 'sample_idx',
                 nan_policy: str = 'exclude',
                 subsets: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}')
        self.toolkit_result_file = toolkit_result_file
        self.index_key = index_key
        self.nan_policy = nan_policy
        self.subsets = subsets

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store predicted joints, GT joints, GT root, flip flag and indices per sample.

        A sample without GT joints (no hand) is stored as ``dict(no_hand=True)`` only.
        """
        for sample in data_samples:
            gt_joints = get_instance(sample, 'gt_instances', 'hand_joints3d_cam', (21, 3),
                                     required=False)
            if gt_joints is None:
                self.results.append(dict(no_hand=True))
                continue
            self.results.append(dict(
                sample_idx=int(get_meta(sample, 'sample_idx')),
                toolkit_idx=int(get_meta(sample, self.index_key)),
                joints=get_instance(sample, 'pred_instances', 'hand_joints3d', (21, 3)),
                root=get_instance(sample, 'gt_instances', 'root_joint', (3, )),
                gt_joints=gt_joints,
                flip=bool(get_meta(sample, 'flip', False, required=False)),
                joints2d=hand_joints2d_pair(sample),
                tags=subset_tags(sample)))

    def _toolkit_scores(self, pred_mm: np.ndarray, gt: np.ndarray,
                        indices: np.ndarray) -> Dict[str, float]:
        """Write the toolkit result file and score it as ``HPEEvaluator.evaluate``."""
        directory = osp.dirname(osp.abspath(self.toolkit_result_file))
        os.makedirs(directory, exist_ok=True)
        with open(self.toolkit_result_file, 'w') as file:
            for index, joints in zip(indices, pred_mm):
                file.write(','.join([str(int(index))] + [repr(v) for v in joints.ravel().tolist()]))
                file.write('\n')
        MMLogger.get_current_instance().info(
            f'dex-ycb-toolkit result file written to {self.toolkit_result_file}')
        gt_mm = (gt.astype(np.float32) * np.float32(1000)).astype(np.float64)
        aligned = {
            'absolute': (pred_mm, gt_mm),
            'root_relative': (pred_mm - pred_mm[:, :1], gt_mm - gt_mm[:, :1]),
            'procrustes': (align_procrustes(pred_mm, gt_mm), gt_mm),
        }
        scores = {}
        for name, (pred, target) in aligned.items():
            measures = point_error_measures(_distances(pred, target), *_TOOLKIT_AUC)
            scores[f'toolkit_{name}_MPJPE_mm'] = measures.mean
            scores[f'toolkit_{name}_AUC'] = measures.auc
        return scores

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return ``MPJPE_mm`` and ``PA-MPJPE_mm``, the frame counts, and the toolkit numbers."""
        num_no_hand = sum(1 for r in results if r.get('no_hand'))
        results = sorted((r for r in results if not r.get('no_hand')),
                         key=lambda r: r['sample_idx'])
        MMLogger.get_current_instance().info(
            f'DexYCBHandMetric: {len(results)} frames with a hand scored, {num_no_hand} '
            'frames without a hand skipped (joint_3d all -1, as the toolkit skips them)')
        if not results:
            raise ValueError(f'DexYCBHandMetric: none of the {num_no_hand} frames has a hand '
                             '(gt_instances.hand_joints3d_cam) to score')
        ids = [r['sample_idx'] for r in results]
        pred = root_relative_to_camera(
            np.stack([r['joints'] for r in results]), np.stack([r['root'] for r in results]),
            np.array([r['flip'] for r in results]))
        gt = np.stack([r['gt_joints'] for r in results]).astype(np.float64)
        valid = finite_sample_mask([pred], ids, self.nan_policy, 'DexYCBHandMetric predictions')
        pred, gt = pred[valid], gt[valid]
        if len(pred) == 0:
            raise ValueError('DexYCBHandMetric: no sample with a finite prediction to score')
        aligned = align_umeyama(pred, gt)
        distances = {'MPJPE_mm': _distances(pred * 1000, gt * 1000),
                     'PA-MPJPE_mm': _distances(aligned * 1000, gt * 1000)}
        scores = {
            'MPJPE_mm': float(distances['MPJPE_mm'].mean()),
            'PA-MPJPE_mm': float(distances['PA-MPJPE_mm'].mean()),
            'frames_scored': len(pred),
            'frames_without_hand': num_no_hand,
        }
        if self.toolkit_result_file is not None:
            indices = np.array([r['toolkit_idx'] for r in results])[valid]
            scores.update(self._toolkit_scores(pred * 1000, gt, indices))
        scores.update(hand_joints2d_scores([r['joints2d'] for r in results], ids,
                                           self.nan_policy, 'DexYCBHandMetric'))
        if self.subsets:
            scores.update(subset_means(
                {key: value.mean(1) for key, value in distances.items()},
                [r['tags'] for r, ok in zip(results, valid) if ok]))
        return scores
