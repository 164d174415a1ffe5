# DexYCB s0 data settings (the authors' augmentation, docs/reference_parity.md R18-R25).
# Layout: data/dexycb = DEX_YCB_DIR (subjects, calibration/, models/), annotation files from
#   python tools/dataset_converters/dexycb.py data/dexycb --mano-root data/mano --setups s0
dataset_type = 'DexYCBDataset'
data_root = 'data/dexycb'

train_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadObjectMask'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5, shift_factor=0.1, scale_factor=0.2,
         rot_mode='gaussian', rot_prob=0.6,
         rot_factor=3.141592653589793 / 6),  # rad: pi / 6 = 30 deg (Gaussian sigma)
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
    dataset=dict(type=dataset_type, data_root=data_root, setup='s0', split='train',
                 obj_model_root='models', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, setup='s0', split='test',
                 obj_model_root='models', test_mode=True, pipeline=test_pipeline))
test_dataloader = val_dataloader

val_evaluator = [
    dict(type='DexYCBHandMetric'),
    dict(type='ObjectPoseMetric', obj_model_root=data_root + '/models'),
]
test_evaluator = val_evaluator
