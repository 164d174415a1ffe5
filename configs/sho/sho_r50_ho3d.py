# Semi-Hand-Object (Liu et al., CVPR 2021), ResNet-50, HO3D v2: SHO's own recipe.
# 512x512 input crops (HFL-Net: 256), batch 24 (train) / 16 (test), Adam lr 1e-4, wd 5e-4,
# 60 epochs, lr x0.7 every 10 epochs. Augmentation as SHO's HO3D loader: centre jitter 0.1,
# scale jitter 0.2, rotation U(-pi, pi) always, nearest-neighbour warp, blur radius U(0, 0.5),
# brightness/contrast/saturation 0.5, hue 0.15; hand box x1.1, tight object box, 32x32 object
# mask (identical to HFL-Net's HO3D augmentation apart from the crop size).
# Objects: the seen-object mean leaves out 019_pitcher_base, as SHO's evaluation did.
# Convert the released checkpoint with tools/model_converters/sho_to_mmhandobj.py.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/sho_r50.py',
    '../_base_/datasets/ho3d.py', '../_base_/schedules/adam_60e_step10.py'
]

input_size = 512
train_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadObjectMask'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5, shift_factor=0.1, scale_factor=0.2,
         rot_mode='uniform', rot_prob=1.0,
         rot_factor=3.141592653589793),  # rad: pi = 180 deg (uniform half-range)
    dict(type='HandObjectAffine', input_size=input_size, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=32),
    dict(type='HandObjectPhotometric', blur_range=(0.0, 0.5), brightness=0.5, contrast=0.5,
         saturation=0.5, hue=0.15),  # blur sigma in px, hue in turns
    dict(type='PackHandObjectInputs'),
]
test_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5),
    dict(type='HandObjectAffine', input_size=input_size, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=32),
    dict(type='PackHandObjectInputs'),
]
train_dataloader = dict(batch_size=24, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=16, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
