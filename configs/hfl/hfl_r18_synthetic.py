# Quick start: a small HFL-Net trained for a few minutes on CPU on the built-in synthetic world
# (generated at data/synthetic/ho3d on first use, written in the HO3D layout and read by the real
# HO3D loader), scored on a held-out synthetic sequence with full GT before and after training.
# No dataset and no MANO file are needed: the hand head uses the stand-in MANO model (seed 0)
# that the synthetic world was rendered with.
#   python tools/train.py configs/hfl/hfl_r18_synthetic.py
# Smaller than the paper's model so that it trains on a laptop CPU: a half-width ResNet-18
# two-stream trunk (32 base channels), 96x96 input, 64-channel FPN/fusion/heads and 16x16 RoIs
# (the paper: R50, 256x256, 256 channels, 32x32 RoIs -> configs/hfl/hfl_r50_ho3d.py).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r18.py',
    '../_base_/datasets/synthetic_ho3d.py', '../_base_/schedules/synthetic_adam_10e_step8.py'
]

default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
