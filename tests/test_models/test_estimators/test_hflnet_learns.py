"""The whole chain learns a hand: a tiny HFL-Net overfits a handful of synthetic frames.

World -> converter -> loader -> the quick start's augmentation -> targets -> network -> losses
-> decoding -> metrics, with no part replaced. After a short training on a few frames of the
synthetic world, the hand on those frames must be far better than the dataset prior (the mean
hand and mean 2D layout of the same frames): 2D joint error in original-image pixels and
PA-MPJPE from ``HO3DMetric``, and the wrist-relative 3D joints of frames rotated in the crop,
scored in the crop camera against the ground truth rolled by the crop's own in-plane rotation.
The last figure is what a MANO global orient that does not follow the image rotation breaks;
shifted 2D targets break the 2D figure.
"""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from repo_scripts import load_script

from mmhandobj.datasets.transforms import GetHandObjectCrop
from mmhandobj.evaluation.metrics import HO3DMetric
from mmhandobj.registry import DATASETS, MODELS

ROOT = osp.join(osp.dirname(__file__), '..', '..', '..')
CONFIG = osp.join(ROOT, 'configs', 'hfl', 'hfl_r18_synthetic.py')
#: Training frames (the first ones of the train split) and optimisation schedule.
NUM_FRAMES = 6
NUM_ITERS = 200
LEARNING_RATE = 2e-3
#: In-plane crop rotations (radians) of the rotated-frame check.
ROTATIONS = (-0.4, 0.4)
#: Trained error / prior error must stay below these ratios. Measured (quick-start losses with
#: the dense heatmap term, one thread): 2D 0.25, PA-MPJPE 0.44, rotated crops 0.37; with the MANO
#: orient not rotated with the image the rotated-crop ratio is 0.80, with the 2D targets of the
#: loss shifted by 3 crop pixels the 2D ratio is 0.77.
MAX_RATIO_2D = 0.5
MAX_RATIO_PA = 0.65
MAX_RATIO_ROTATED = 0.55


def _load_prior_tool():
    return load_script('tools/analysis_tools/prior_baseline.py')


def _shrink(cfg: Config, input_size: int = 64) -> None:
    """A small trunk and 32-channel heads at ``input_size`` input, no photometric jitter and a
    stronger 2D loss (to overfit in a few hundred steps); the rest as the quick start."""
    cfg.train_pipeline = [step for step in cfg.train_pipeline
                          if step['type'] != 'HandObjectPhotometric']
    cfg.merge_from_dict({
        'model.hand_head.loss_joints2d.loss_weight': 1000.0,
        'model.backbone.base_channels': 16,
        'model.neck.in_channels': [16, 32, 64, 128],
        'model.neck.out_channels': 32,
        'model.obj_to_hand_fusion.in_channels': 32,
        'model.hand_to_obj_fusion.in_channels': 32,
        'model.hand_head.in_channels': 32,
        'model.hand_head.mano_hidden': [128, 64],
        'model.obj_head.in_channels': 32})
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline):
        for step in pipeline:
            if step['type'] == 'HandObjectAffine':
                step['input_size'] = input_size


def _dataset(cfg: Config, world: str, pipeline: list):
    dataset = cfg.train_dataloader.dataset.copy()
    dataset.update(data_root=world, num_frames=24, val_sequences=[], indices=NUM_FRAMES,
                   pipeline=pipeline)
    return DATASETS.build(dataset)


def _rolled_targets(sample) -> np.ndarray:
    """Wrist-relative GT joints ``(21, 3)`` in the crop camera, rolled by the crop's rotation.

    An in-plane rotation of the image about the principal point is a roll of the camera about
    its optical axis by the same angle (square pixels), so the roll is read off the crop
    affine's linear part, independently of how the pipeline rotates the MANO orient.
    """
    linear = np.asarray(sample.metainfo['crop_affine'], np.float64)[:, :2]
    linear = linear / np.sqrt(abs(np.linalg.det(linear)))
    roll = np.eye(3)
    roll[:2, :2] = linear
    joints = sample.gt_instances.hand_joints3d_cam[0].double().numpy()
    return (joints - joints[0]) @ roll.T


def _rotated_samples(dataset, index: int):
    """Frame ``index`` through the val pipeline with each crop rotation of :data:`ROTATIONS`."""
    samples = []
    for angle in ROTATIONS:
        results = dataset.get_data_info(index)
        for transform in dataset.pipeline.transforms:
            results = transform(results)
            if isinstance(transform, GetHandObjectCrop):
                results['crop_rotation'] = angle
        samples.append(results)
    return samples


def _predict(model, packed):
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate(packed), False)
        return model(**data, mode='predict')


def _scores(samples, predictions_of) -> dict:
    metric = HO3DMetric(version=None)
    for sample in samples:
        sample.pred_instances = predictions_of(sample)
    metric.process({}, [s.to_dict() for s in samples])
    return metric.evaluate(len(samples))


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """Train the tiny model on the first frames; score it and the prior on the same frames."""
    init_default_scope('mmhandobj')
    torch.manual_seed(0)
    np.random.seed(0)
    cfg = Config.fromfile(CONFIG)
    _shrink(cfg)
    world = str(tmp_path_factory.mktemp('learns') / 'ho3d')
    for step in cfg.val_pipeline:
        if step['type'] == 'GenerateHandVertices':
            step['mano_root'] = osp.join(world, 'mano')
    # the whole chain: the world is generated, converted and read by SyntheticHO3DDataset
    train_set = _dataset(cfg, world, cfg.train_pipeline)
    model = MODELS.build(cfg.model)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for _ in range(NUM_ITERS):
        data = model.data_preprocessor(
            pseudo_collate([train_set[i] for i in range(len(train_set))]), True)
        losses = model(**data, mode='loss')
        optimizer.zero_grad()
        sum(v for k, v in losses.items() if 'loss' in k).backward()
        optimizer.step()
    model.eval()

    val_set = _dataset(cfg, world, cfg.val_pipeline)
    packed = [val_set[i] for i in range(len(val_set))]
    samples = _predict(model, packed)
    trained_scores = _scores(samples, lambda s: s.pred_instances)
    tool = _load_prior_tool()
    joints, verts, layouts, hand_layout = tool.estimate_prior(
        [p['data_samples'] for p in packed], model.hand_head.mano_forward)
    prior_scores = _scores(
        [p['data_samples'] for p in packed],
        lambda s: tool.prior_prediction(s, joints, verts, layouts[s.metainfo['obj_name']],
                                        hand_layout))

    rotated = [r for i in range(len(val_set)) for r in _rotated_samples(val_set, i)]
    rotated_preds = _predict(model, rotated)
    targets = [_rolled_targets(s) for s in rotated_preds]
    rotated_error = np.mean([np.linalg.norm(s.pred_instances.hand_joints3d[0] - t, axis=1)
                             for s, t in zip(rotated_preds, targets)])
    rotated_prior = np.mean([np.linalg.norm(joints - t, axis=1) for t in targets])
    return trained_scores, prior_scores, rotated_error, rotated_prior


def test_hand_2d_error_falls_far_below_the_prior(trained):
    scores, prior, _, _ = trained
    ratio = scores['ho3d/joints2d_EPE_px'] / prior['ho3d/joints2d_EPE_px']
    assert ratio < MAX_RATIO_2D, (
        f"2D joint error {scores['ho3d/joints2d_EPE_px']:.2f} px vs prior "
        f"{prior['ho3d/joints2d_EPE_px']:.2f} px (ratio {ratio:.2f})")


def test_hand_pa_mpjpe_falls_far_below_the_prior(trained):
    scores, prior, _, _ = trained
    key = 'ho3d/xyz_procrustes_al_mean3d'
    ratio = scores[key] / prior[key]
    assert ratio < MAX_RATIO_PA, (
        f'PA-MPJPE {scores[key]:.3f} cm vs prior {prior[key]:.3f} cm (ratio {ratio:.2f})')


def test_hand_follows_the_crop_rotation(trained):
    _, _, error, prior = trained
    ratio = error / prior
    assert ratio < MAX_RATIO_ROTATED, (
        f'wrist-relative error on rotated crops {1000 * error:.1f} mm vs prior '
        f'{1000 * prior:.1f} mm (ratio {ratio:.2f})')
