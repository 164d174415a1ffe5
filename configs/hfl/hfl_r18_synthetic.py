# Quick start: a small HFL-Net (ResNet-18 two-stream trunk) trained for a few minutes on CPU on
# the built-in synthetic world (generated at data/synthetic/ho3d on first use, HO3D layout, read
# by the real HO3D loader), evaluated on a held-out synthetic sequence with full GT.
# No dataset and no MANO file needed: the hand head uses the stand-in MANO model (seed 0) that the
# synthetic world was rendered with.
#   python tools/train.py configs/hfl/hfl_r18_synthetic.py
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r50.py',
    '../_base_/datasets/synthetic_ho3d.py'
]

model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]),
    hand_head=dict(mano_cfg=dict(mano_root=None, standin_seed=0)))

val_evaluator = [
    dict(type='HO3DMetric', version=None),
    dict(type='ObjectPoseMetric', obj_model_root='data/synthetic/ho3d/models'),
]
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-3))
param_scheduler = [dict(type='StepLR', step_size=8, gamma=0.1, by_epoch=True)]
default_hooks = dict(logger=dict(interval=10))
