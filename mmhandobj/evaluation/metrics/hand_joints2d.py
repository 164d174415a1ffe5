"""Hand 2D joint error (EPE, PCK, AUC) in original-image pixels, shared by the hand metrics."""
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from mmhandobj.structures.geometry import pinhole_project
from mmhandobj.structures.sample_fields import get_instance, get_meta

from ..functional import KEYPOINT_2D_AUC_MAX_PX, finite_sample_mask, keypoint_2d_measures


def hand_joints2d_pair(sample: dict) -> Optional[Tuple[np.ndarray, np.ndarray]]:
    """Predicted and GT 2D hand joints of one sample, both in original-image pixels.

    The prediction is ``pred_instances.hand_joints2d_img`` ('simple' order, already mapped back
    from the crop and un-mirrored by the model); the GT is ``gt_instances.hand_joints3d_cam``
    (original camera, metres, not mirrored) projected with metainfo ``ori_cam_intr``.

    Args:
        sample: Dict from ``HandObjectDataSample.to_dict()``.

    Returns:
        ``(pred (21, 2), gt (21, 2))`` float64 pixels, or None when the sample has no 2D
        prediction or no 3D GT joints (e.g. the HO3D evaluation split).
    """
    pred = get_instance(sample, 'pred_instances', 'hand_joints2d_img', (21, 2), required=False)
    gt_joints = get_instance(sample, 'gt_instances', 'hand_joints3d_cam', (21, 3), required=False)
    if pred is None or gt_joints is None:
        return None
    gt_image = pinhole_project(gt_joints.astype(np.float64),
                               np.asarray(get_meta(sample, 'ori_cam_intr'), np.float64))
    return pred.astype(np.float64), gt_image


def hand_joints2d_scores(pairs: Sequence[Optional[Tuple[np.ndarray, np.ndarray]]],
                         sample_ids: Sequence[int], nan_policy: str,
                         what: str) -> Dict[str, float]:
    """EPE, PCK and AUC of the samples' :func:`hand_joints2d_pair` results.

    Args:
        pairs: One ``(pred, gt)`` pair or None per sample.
        sample_ids: Metainfo ``sample_idx`` per sample (for the non-finite report).
        nan_policy: ``'exclude'`` or ``'raise'`` for non-finite predictions.
        what: Name of the caller for messages.

    Returns:
        ``joints2d_EPE_px``, ``joints2d_PCK_<t>px`` for each threshold and
        ``joints2d_AUC_<max>px``; empty when any sample lacks a pair (no 2D GT on the split).
    """
    if not pairs or any(pair is None for pair in pairs):
        return {}
    pred = np.stack([pair[0] for pair in pairs])
    gt = np.stack([pair[1] for pair in pairs])
    valid = finite_sample_mask([pred], list(sample_ids), nan_policy, f'{what} 2D joints')
    if not valid.any():
        return {}
    measures = keypoint_2d_measures(pred[valid], gt[valid])
    scores = {'joints2d_EPE_px': measures.epe}
    scores.update({f'joints2d_PCK_{t:g}px': v for t, v in measures.pck.items()})
    scores[f'joints2d_AUC_{KEYPOINT_2D_AUC_MAX_PX:g}px'] = measures.auc
    return scores

