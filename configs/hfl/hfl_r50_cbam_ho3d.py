# HFL-Net with CBAM (channel + spatial attention) before both interaction blocks, HO3D v2.
# Everything else as hfl_r50_ho3d.py.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r50.py',
    '../_base_/datasets/ho3d.py', '../_base_/schedules/adam_70e_step10.py'
]

model = dict(
    obj_to_hand_fusion=dict(cbam=True),
    hand_to_obj_fusion=dict(cbam=True))
