# Quick-start-sized Semi-Hand-Object on the synthetic world, with the data, schedule and seed of
# configs/hfl/hfl_r18_synthetic.py (so the two train and score alike): half-width R18 trunk,
# 96x96 input, 64 channels, 16x16 RoIs. SHO's wiring and initialisation as
# configs/_base_/models/sho_r50.py; the MANO layer is the world's stand-in with its fingertip
# convention (SHO's HO3D fingertips would add a fixed error unrelated to the network).
#   python tools/train.py configs/sho/sho_r18_synthetic.py
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/sho_r18.py',
    '../_base_/datasets/synthetic_ho3d.py', '../_base_/schedules/synthetic_adam_10e_step8.py'
]

default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
