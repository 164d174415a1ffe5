"""Score the dataset prior: what a model that ignores the image gets on a config's val split.

Example::

    python tools/analysis_tools/prior_baseline.py configs/hfl/hfl_r18_synthetic.py

The prior is estimated on the config's training split, read with the val pipeline (no
augmentation), in the network's frame:

- hand: the mean wrist-centred joints and vertices of the ground-truth MANO parameters, posed
  with the model's own MANO layer (right hands; left hands are mirrored by the pipeline as for
  training);
- hand 2D: the mean 2D joint layout normalised to the hand box (as the network's heatmap head
  predicts it), placed in each val frame's hand box and mapped back to the original image
  (un-mirrored), scored as the network's 2D joints (``joints2d_*``);
- object: per object name, the mean of the 21 box keypoints normalised to the object box. On a
  val frame they are placed in its object box and solved with the model's EPnP-RANSAC against
  the object's 3D keypoints, exactly as ``HFLNet.predict`` does with voted keypoints.

Every val frame gets these predictions, scored with the config's ``val_evaluator``. A trained
model that does not beat these numbers has learned the dataset's averages, not the images.
"""
import argparse
from collections import defaultdict
from typing import Callable, Dict, List, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.evaluator import Evaluator
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.structures import InstanceData

from mmhandobj.models.heads.pnp import solve_object_pose
from mmhandobj.registry import DATASETS, MODELS
from mmhandobj.structures import HandObjectDataSample
from mmhandobj.structures.geometry import box_normalised_to_pixels, pixels_to_box_normalised

#: Samples per MANO call when averaging the training hands.
MANO_CHUNK = 1024
#: Train-split fields the prior needs (``gt_instances``).
PRIOR_FIELDS = ('mano_pose', 'mano_shape', 'hand_joints2d_crop', 'hand_bboxes', 'obj_kps2d_crop',
                'obj_bboxes')


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='config with train/val dataloaders and val_evaluator')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config keys, e.g. val_dataloader.dataset.data_root=...')
    return parser.parse_args(argv)


def _build_dataset(cfg: Config, loader: str):
    """The ``loader``'s dataset, read with the config's val pipeline in test mode."""
    dataset_cfg = cfg[loader].dataset.copy()
    dataset_cfg.pipeline = cfg.val_pipeline
    dataset_cfg.test_mode = True
    return DATASETS.build(dataset_cfg)


#: ``(pose (B, 48), betas (B, 10)) -> (verts (B, 778, 3), joints (B, 21, 3))``, metres,
#: wrist-centred: ``HandMANOHead.mano_forward``.
ManoForward = Callable[[torch.Tensor, torch.Tensor], Tuple[torch.Tensor, torch.Tensor]]


def estimate_prior(samples: List[HandObjectDataSample], mano: ManoForward
                   ) -> Tuple[np.ndarray, np.ndarray, Dict[str, np.ndarray], np.ndarray]:
    """Mean hand, mean hand 2D layout and mean object keypoint layout of training samples.

    Args:
        samples: Packed data samples holding ``gt_instances`` ``mano_pose`` (1, 48),
            ``mano_shape`` (1, 10), ``hand_joints2d_crop`` (1, 21, 2), ``hand_bboxes`` (1, 4),
            ``obj_kps2d_crop`` (1, 21, 2) and ``obj_bboxes`` (1, 4), crop pixels, and
            ``metainfo['obj_name']``.
        mano: The model's MANO forward (``HandMANOHead.mano_forward``).

    Returns:
        Mean joints ``(21, 3)`` and vertices ``(778, 3)`` (metres, wrist-centred), per object
        name the mean box-normalised keypoints ``(21, 2)`` ((0, 0) top-left and (1, 1)
        bottom-right of the object box), and the mean hand-box-normalised 2D joints
        ``(21, 2)``.
    """
    if not samples:
        raise ValueError('the training split is empty: no prior to estimate')
    for i, sample in enumerate(samples):
        missing = [k for k in PRIOR_FIELDS if k not in sample.gt_instances]
        if missing:
            raise KeyError(f'training sample {i} ({sample.metainfo.get("img_path")}) lacks '
                           f'gt_instances {missing}; the prior needs full training labels')
    pose = torch.cat([s.gt_instances.mano_pose for s in samples]).float()
    shape = torch.cat([s.gt_instances.mano_shape for s in samples]).float()
    joint_sum, vert_sum = torch.zeros(21, 3, dtype=torch.float64), torch.zeros(778, 3,
                                                                               dtype=torch.float64)
    with torch.no_grad():  # in chunks: a whole HO3D training set would need gigabytes at once
        for start in range(0, len(samples), MANO_CHUNK):
            verts, joints = mano(pose[start:start + MANO_CHUNK], shape[start:start + MANO_CHUNK])
            joint_sum += joints.double().sum(0)
            vert_sum += verts.double().sum(0)
    layouts = defaultdict(list)
    hand_layouts = []
    for sample in samples:
        gt = sample.gt_instances
        layouts[sample.metainfo['obj_name']].append(pixels_to_box_normalised(
            gt.obj_kps2d_crop.double().numpy(), gt.obj_bboxes.double().numpy())[0])
        hand_layouts.append(pixels_to_box_normalised(
            gt.hand_joints2d_crop.double().numpy(), gt.hand_bboxes.double().numpy())[0])
    mean_layouts = {name: np.mean(v, axis=0) for name, v in layouts.items()}
    return ((joint_sum / len(samples)).numpy(), (vert_sum / len(samples)).numpy(),
            mean_layouts, np.mean(hand_layouts, axis=0))


def prior_prediction(sample: HandObjectDataSample, joints: np.ndarray, verts: np.ndarray,
                     layout: np.ndarray, hand_layout: np.ndarray) -> InstanceData:
    """``pred_instances`` of one val sample from the prior (the contract's fields and frames).

    Args:
        sample: Packed val sample (``hand_bboxes``, ``obj_bboxes``, ``obj_kps3d``,
            ``crop_affine``, ``flip``, ``ori_shape``, ``ori_cam_intr``).
        joints: ``(21, 3)`` mean joints, metres, wrist-centred, network frame.
        verts: ``(778, 3)`` mean vertices, same frame.
        layout: ``(21, 2)`` mean object-box-normalised keypoints.
        hand_layout: ``(21, 2)`` mean hand-box-normalised 2D joints.

    Returns:
        ``hand_joints3d``, ``hand_verts3d``, ``hand_joints2d_crop``, ``hand_joints2d_img``,
        ``obj_rot``, ``obj_trans``, ``obj_kps2d_crop`` and ``obj_kps2d_img``.
    """
    hand_crop = box_normalised_to_pixels(hand_layout,
                                         sample.gt_instances.hand_bboxes[0].double().numpy())
    box = sample.gt_instances.obj_bboxes[0].double().numpy()
    crop_px = box_normalised_to_pixels(layout, box)
    image_px = sample.crop_to_image(crop_px)
    rot, trans, _ = solve_object_pose(image_px, sample.gt_instances.obj_kps3d[0],
                                      sample.metainfo['ori_cam_intr'])
    pred = InstanceData()
    pred.hand_joints3d = joints[None].astype(np.float32)
    pred.hand_verts3d = verts[None].astype(np.float32)
    pred.hand_joints2d_crop = hand_crop[None].astype(np.float32)
    pred.hand_joints2d_img = sample.crop_to_image(hand_crop)[None].astype(np.float32)
    pred.obj_rot = rot[None].astype(np.float32)
    pred.obj_trans = trans[None].astype(np.float32)
    pred.obj_kps2d_crop = crop_px[None].astype(np.float32)
    pred.obj_kps2d_img = image_px[None].astype(np.float32)
    return pred


def score_prior(cfg: Config) -> Dict[str, float]:
    """Estimate the prior on the training split and score it on the val split.

    Args:
        cfg: Config with ``model`` (its hand head's MANO settings), ``train_dataloader``,
            ``val_dataloader``, ``val_pipeline`` and ``val_evaluator``.

    Returns:
        The evaluator's metrics.
    """
    init_default_scope(cfg.get('default_scope', 'mmhandobj'))
    mano = MODELS.build(cfg.model).hand_head.mano_forward
    train_set = _build_dataset(cfg, 'train_dataloader')
    joints, verts, layouts, hand_layout = estimate_prior(
        [train_set[i]['data_samples'] for i in range(len(train_set))], mano)
    val_set = _build_dataset(cfg, 'val_dataloader')
    evaluator = Evaluator(cfg.val_evaluator)
    evaluator.dataset_meta = val_set.metainfo
    for i in range(len(val_set)):
        sample = val_set[i]['data_samples']
        name = sample.metainfo['obj_name']
        if name not in layouts:
            raise KeyError(f'val object {name!r} never appears in the training split '
                           f'(objects there: {sorted(layouts)}); no prior for it')
        sample.pred_instances = prior_prediction(sample, joints, verts, layouts[name],
                                                 hand_layout)
        evaluator.process(data_samples=[sample])
    return evaluator.evaluate(len(val_set))


def main(argv=None) -> None:
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    logger = MMLogger.get_instance('prior_baseline')
    metrics = score_prior(cfg)
    logger.info('prior baseline (training-set mean hand and object layout) on the val split:')
    for key, value in metrics.items():
        print(f'{key:<40} {value:.4f}')


if __name__ == '__main__':
    main()
