# Semi-Hand-Object, ResNet-50, DexYCB s0 (both hands, left ones mirrored to right). SHO's code
# has no DexYCB loader: this is its HO3D recipe (512x512 crops, batch 24, Adam 1e-4, wd 5e-4,
# 60 epochs, x0.7 every 10, rotation U(-pi, pi)) on the project's DexYCB reader with
# HFL-Net's DexYCB protocol (GT boxes, MPJPE / PA-MPJPE, ADD(-S)-0.1D). HFL-Net's own DexYCB
# recipe differs: 256x256, 40 epochs, x0.7 every 5, rotation N(0, 30 deg) with probability 0.6.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/sho_r50.py',
    '../_base_/datasets/dexycb.py', '../_base_/schedules/adam_60e_step10.py'
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
