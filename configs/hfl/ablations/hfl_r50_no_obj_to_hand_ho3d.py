# HFL-Net ablation, HO3D v2: the object-to-hand block switched off (the hand head reads the
# hand RoI directly); HFL-Net's trunk split and hand-to-object block kept. Everything else as
# configs/hfl/hfl_r50_ho3d.py.
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/models/hfl_r50.py',
    '../../_base_/datasets/ho3d.py', '../../_base_/schedules/adam_70e_step10.py'
]

model = dict(obj_to_hand_fusion=None)
