# HO-3D v2 data settings (the authors' augmentation, docs/reference_parity.md R18-R23).
# Layout: data/ho3d/{train,evaluation,train.txt,evaluation.txt}, YCB models at
# data/ho3d/models/<name>/points.xyz, annotation files from
#   python tools/dataset_converters/ho3d.py data/ho3d --version v2
dataset_type = 'HO3DDataset'
data_root = 'data/ho3d'

train_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadObjectMask'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5, shift_factor=0.1, scale_factor=0.2,
         rot_mode='uniform', rot_prob=1.0,
         rot_factor=3.141592653589793),  # rad: pi = 180 deg (uniform half-range)
    dict(type='HandObjectAffine', input_size=256, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=32),
    dict(type='HandObjectPhotometric', blur_range=(0.0, 0.5), brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.15),  # blur sigma in px, hue in turns
    dict(type='PackHandObjectInputs'),
]
test_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    # subset tags (hand occlusion, hand-object distance) for the metrics' subset keys
    dict(type='ComputeHandObjectSubsets'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5),
    dict(type='HandObjectAffine', input_size=256, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=32),
    dict(type='PackHandObjectInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=False,  # with epoch_worker_init_fn: new draws every epoch, exact resume
    worker_init_fn=dict(type='mmhandobj.epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, version='v2', split='train',
                 obj_model_root='models', pipeline=train_pipeline))
# The official evaluation split: hand GT is hidden (server scoring), object poses are known.
# For local hand scores hold out train sequences: split='val', val_sequences=[...] here and
# the same sequences in train_dataloader.dataset.val_sequences.
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, version='v2', split='evaluation',
                 obj_model_root='models', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='HO3DMetric', version='v2'),
    dict(type='ObjectPoseMetric', obj_model_root=data_root + '/models', symmetric_objects=[],
         rep_frame='crop', exclude_from_mean=['019_pitcher_base']),
]
test_evaluator = val_evaluator
