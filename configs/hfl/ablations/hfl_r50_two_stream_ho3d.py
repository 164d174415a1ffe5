# HFL-Net ablation, HO3D v2: two-stream trunk with nothing shared (stem, layer1-layer4 and the
# FPN per stream); both interaction blocks kept. Everything else as configs/hfl/hfl_r50_ho3d.py.
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/models/hfl_r50.py',
    '../../_base_/datasets/ho3d.py', '../../_base_/schedules/adam_70e_step10.py'
]

model = dict(backbone=dict(split_stages=(0, 1, 2, 3, 4)))
