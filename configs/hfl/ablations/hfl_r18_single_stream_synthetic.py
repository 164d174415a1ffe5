# Quick-start-sized single-stream HFL-Net (every trunk stage and the FPN shared by the hand and
# the object), otherwise configs/hfl/hfl_r18_synthetic.py: same data, schedule and seed.
#   python tools/train.py configs/hfl/ablations/hfl_r18_single_stream_synthetic.py
_base_ = [
    '../../_base_/default_runtime.py', '../../_base_/models/hfl_r18.py',
    '../../_base_/datasets/synthetic_ho3d.py', '../../_base_/schedules/synthetic_adam_10e_step8.py'
]

default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]

# The authors' attention block (no QK norm), as the comparison in docs/model_zoo.md was measured.
model = dict(backbone=dict(split_stages=()), neck=dict(share_weights=True),
             obj_to_hand_fusion=dict(qk_norm=False), hand_to_obj_fusion=dict(qk_norm=False))
