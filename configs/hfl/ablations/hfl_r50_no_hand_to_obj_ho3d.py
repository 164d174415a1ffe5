# HFL-Net ablation, HO3D v2: the hand-to-object block switched off (the object head reads the
# object RoI directly); HFL-Net's trunk split and object-to-hand block kept. Everything else as
# configs/hfl/hfl_r50_ho3d.py.
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/models/hfl_r50.py',
    '../../_base_/datasets/ho3d.py', '../../_base_/schedules/adam_70e_step10.py'
]

model = dict(hand_to_obj_fusion=None)
