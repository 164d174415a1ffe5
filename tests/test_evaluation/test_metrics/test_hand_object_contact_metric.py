"""HandObjectContactMetric on frames of the synthetic HO3D world."""
import os
import os.path as osp
import shutil

import numpy as np
import pytest
from mmengine.evaluator import Evaluator
from mmengine.structures import InstanceData

from mmhandobj.apis import register_all_modules
from mmhandobj.datasets.converters import convert_ho3d
from mmhandobj.evaluation.functional import (
    hand_object_distance,
    intersection_volume,
    intersection_volume_obman,
)
from mmhandobj.evaluation.metrics.hand_object_contact_metric import load_obj_mesh
from mmhandobj.models.mano.mano_loader import load_mano_model
from mmhandobj.registry import DATASETS

PIPELINE = [
    dict(type='LoadHandObjectImage'),
    dict(type='GenerateHandVertices'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5),
    dict(type='HandObjectAffine', input_size=64, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=16),
    dict(type='PackHandObjectInputs'),
]


@pytest.fixture(scope='module')
def frames(ho3d_raw_root):
    """Up to 6 GT frames (hand + object) of the synthetic world with a perfect prediction."""
    register_all_modules()
    root = ho3d_raw_root
    out = osp.join(root, 'annotations', 'ho3d_v2_train.npz')
    if not osp.isfile(out):
        convert_ho3d(root, out, 'train', 'v2')
    pipeline = [dict(t, mano_root=osp.join(root, 'mano'))
                if t['type'] == 'GenerateHandVertices' else t for t in PIPELINE]
    dataset = DATASETS.build(dict(type='HO3DDataset', data_root=root, split='val',
                                  val_sequences=['GPMF10'], test_mode=True, pipeline=pipeline))
    samples = []
    for i in range(len(dataset)):
        sample = dataset[i]['data_samples']
        gt = sample.gt_instances
        if 'hand_verts3d_cam' not in gt or gt.obj_pose.abs().sum() == 0:
            continue
        rel = gt.hand_verts3d_cam.numpy() - gt.root_joint.numpy()[:, None]
        if sample.metainfo['flip']:
            rel[..., 0] *= -1
        sample.pred_instances = InstanceData(
            hand_verts3d=rel, obj_rot=gt.obj_pose[:, :, :3].numpy(),
            obj_trans=gt.obj_pose[:, :, 3].numpy())
        samples.append(sample)
        if len(samples) == 6:
            break
    assert len(samples) >= 3
    return root, samples


def _evaluate(samples, **kwargs):
    evaluator = Evaluator(dict(type='HandObjectContactMetric', **kwargs))
    evaluator.process(samples)
    return evaluator.evaluate(len(samples))


def test_metric_equals_the_exact_functions_on_gt_meshes(frames):
    root, samples = frames
    metrics = _evaluate(samples, obj_model_root=osp.join(root, 'models'),
                        mano_root=osp.join(root, 'mano'))
    # The perfect prediction is the GT: both rows agree.
    for key in ('penetration_depth_mm', 'intersection_volume_cm3',
                'intersection_volume_obman_cm3', 'contact_ratio'):
        assert metrics[f'phys/{key}'] == pytest.approx(metrics[f'phys/gt_{key}'], abs=1e-9)
    assert metrics['phys/frames_scored'] == len(samples)
    # Second implementation: the exact functions in the camera frame.
    hand_faces = load_mano_model(osp.join(root, 'mano', 'MANO_RIGHT.pkl'))['f']
    dist, vol, obman = [], [], []
    for sample in samples:
        gt = sample.gt_instances
        verts, faces = load_obj_mesh(osp.join(root, 'models', sample.metainfo['obj_name'],
                                              'textured_simple.obj'))
        pose = gt.obj_pose[0].numpy().astype(np.float64)
        obj = verts @ pose[:, :3].T + pose[:, 3]
        hand = gt.hand_verts3d_cam[0].numpy().astype(np.float64)
        dist.append(hand_object_distance(hand, obj, faces)[0])
        vol.append(intersection_volume(hand, hand_faces, obj, faces, 0.002)[0])
        obman.append(intersection_volume_obman(hand, hand_faces, obj, faces, 0.005)[0])
    dist, vol, obman = map(np.array, (dist, vol, obman))
    assert metrics['phys/gt_penetration_depth_mm'] == pytest.approx(
        np.maximum(-dist, 0).mean() * 1e3, abs=0.3)
    assert metrics['phys/gt_contact_ratio'] == pytest.approx(np.mean(dist <= 0.002))
    # Lattices in different frames (model vs camera): voxel noise only.
    assert metrics['phys/gt_intersection_volume_cm3'] == pytest.approx(vol.mean() * 1e6,
                                                                       rel=0.25, abs=0.05)
    assert metrics['phys/gt_intersection_volume_obman_cm3'] == pytest.approx(
        obman.mean() * 1e6, rel=0.5, abs=0.2)


def test_predicted_root_is_required_and_used(frames):
    root, samples = frames
    with pytest.raises(KeyError, match='hand_root'):
        _evaluate(samples, obj_model_root=osp.join(root, 'models'),
                  mano_root=osp.join(root, 'mano'), root='pred')
    moved = []
    for sample in samples:
        sample = sample.clone()
        # The wrist predicted 20 cm further from the camera: no contact any more.
        sample.pred_instances.hand_root = sample.gt_instances.root_joint.numpy() + [0, 0, 0.2]
        moved.append(sample)
    metrics = _evaluate(moved, obj_model_root=osp.join(root, 'models'),
                        mano_root=osp.join(root, 'mano'), root='pred')
    assert metrics['phys/contact_ratio'] == 0.0
    assert metrics['phys/penetration_depth_mm'] == 0.0


def test_missing_and_degenerate_meshes(frames, tmp_path, caplog):
    root, samples = frames
    models = tmp_path / 'models'
    shutil.copytree(osp.join(root, 'models'), models)
    name = samples[0].metainfo['obj_name']
    os.remove(models / name / 'textured_simple.obj')
    metrics = _evaluate(samples, obj_model_root=str(models), mano_root=osp.join(root, 'mano'))
    scored = sum(s.metainfo['obj_name'] != name for s in samples)
    assert metrics.get('phys/frames_scored', 0) == scored
    (models / name / 'textured_simple.obj').write_text('v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n')
    with pytest.raises(ValueError, match=f'{name}.*textured_simple.obj.*NaN'):
        _evaluate(samples, obj_model_root=str(models), mano_root=osp.join(root, 'mano'))
    (models / name / 'textured_simple.obj').write_text('v 0 0 0\nv 1 0 0\nv 0 1 0\n')
    with pytest.raises(ValueError, match=f'{name}.*textured_simple.obj.*no faces'):
        _evaluate(samples, obj_model_root=str(models), mano_root=osp.join(root, 'mano'))
