# Quick-start data: a synthetic hand-object world in the HO3D layout, generated on first use at
# data/synthetic/ho3d (768 frames: 614 train frames in 18 sequences of 34, 154 evaluation
# frames; rendered by 2 processes in about a minute). Train on the synthetic train sequences,
# validate on the held-out train sequences SM3 and ABF11 (68 frames with full GT, one frame a
# 1.5 % step; their objects, the mustard bottle and the bleach cleanser, are also held in
# training sequences SM2, SM4, SM5 and ABF10, ABF12, ABF13).
dataset_type = 'SyntheticHO3DDataset'
data_root = 'data/synthetic/ho3d'
num_frames = 768
val_sequences = ['SM3', 'ABF11']
gen_workers = 2
# Network input (px, square), object-mask target side (px; equals the model's RoI size,
# models/hfl_r18.py roi_size) and crop size relative to the hand-object box.
input_size = 96
mask_size = 16
crop_expand = 1.5
mano_root = data_root + '/mano'  # the world's stand-in MANO model (GT meshes)
obj_model_root = data_root + '/models'

train_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadObjectMask'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=crop_expand, shift_factor=0.1, scale_factor=0.2,
         rot_mode='gaussian', rot_prob=0.6,
         rot_factor=3.141592653589793 / 6),  # rad: pi / 6 = 30 deg (Gaussian sigma)
    dict(type='HandObjectAffine', input_size=input_size, interpolation='bilinear'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=mask_size),
    dict(type='HandObjectPhotometric', blur_range=(0.0, 0.5), brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.15),  # blur sigma in px, hue in turns
    dict(type='PackHandObjectInputs'),
]
# Held-out train sequences with full GT: also the GT mesh (world's stand-in MANO) for mesh metrics.
val_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadObjectMask'),
    dict(type='GenerateHandVertices', mano_root=mano_root),
    # subset tags (hand occlusion, hand-object distance) for the metrics' subset keys
    dict(type='ComputeHandObjectSubsets'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=crop_expand),
    dict(type='HandObjectAffine', input_size=input_size, interpolation='bilinear'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=mask_size),
    dict(type='PackHandObjectInputs'),
]
# The synthetic evaluation split mimics HO3D's (wrist and hand box only); tools/test.py writes
# the server files (<work_dir>/test/pred.json, pred.zip) and scores them against the world's
# released-GT files (<work_dir>/test/scores.txt).
test_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=crop_expand),
    dict(type='HandObjectAffine', input_size=input_size, interpolation='bilinear'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=mask_size),
    dict(type='PackHandObjectInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,  # with epoch_worker_init_fn: new draws every epoch, exact resume
    worker_init_fn=dict(type='mmhandobj.epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, num_frames=num_frames, seed=0,
                 gen_workers=gen_workers, split='train',
                 val_sequences=val_sequences, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, num_frames=num_frames, seed=0,
                 gen_workers=gen_workers, split='val',
                 val_sequences=val_sequences, test_mode=True,
                 pipeline=val_pipeline))
# The synthetic evaluation split mimics HO3D's: wrist and hand box only, in evaluation.txt order.
test_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, num_frames=num_frames, seed=0,
                 gen_workers=gen_workers, split='evaluation',
                 test_mode=True, pipeline=test_pipeline))

object_metric = dict(type='ObjectPoseMetric', obj_model_root=obj_model_root, symmetric_objects=[])
val_evaluator = [dict(type='HO3DMetric', version=None), object_metric]
test_evaluator = [dict(type='HO3DMetric', version=None, gt_dir=data_root), object_metric]
# The protocol without ground truth at test time (*_noroot.py): the same metrics plus the
# solved wrist against the GT wrist (HandRootMetric) and physical plausibility with the hand at
# its solved wrist (HandObjectContactMetric: phys/*, and phys/gt_* on the GT meshes).
noroot_test_evaluator = [
    dict(type='HO3DMetric', version=None), object_metric, dict(type='HandRootMetric'),
    dict(type='HandObjectContactMetric', obj_model_root=obj_model_root, mano_root=mano_root,
         root='pred'),
]
