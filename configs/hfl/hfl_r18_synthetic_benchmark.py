# Learning benchmark: the quick start's model and losses on a larger synthetic world, trained
# long enough to show that the hand (not only the object) is learned from pixels on unseen
# frames. About 39 minutes on 2 idle CPU cores, generation (2.5 min) included:
#   python tools/train.py configs/hfl/hfl_r18_synthetic_benchmark.py
#   python tools/analysis_tools/prior_baseline.py configs/hfl/hfl_r18_synthetic_benchmark.py
#   python tools/analysis_tools/plot_curves.py work_dirs/hfl_r18_synthetic_benchmark \
#       --val-keys ho3d/xyz_procrustes_al_mean3d ho3d/joints2d_EPE_px obj/ADD-0.1D
# World and input: configs/_base_/datasets/synthetic_ho3d_benchmark.py. Against the quick start
# the interaction blocks learn at a tenth of the lr (below). Figures and the runs that led here:
# configs/hfl/README.md.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r18.py',
    '../_base_/datasets/synthetic_ho3d_benchmark.py',
    '../_base_/schedules/synthetic_adam_10e_step8.py'
]

# 1067 training frames, batch 8: 134 iterations an epoch (3216 in all).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=24, val_interval=6)
param_scheduler = [dict(type='StepLR', step_size=16, gamma=0.1, by_epoch=True)]
default_hooks = dict(logger=dict(interval=20))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
# The interaction blocks (obj_to_hand_fusion, hand_to_obj_fusion) learn at a tenth of the lr:
# at 2e-3 the object-to-hand attention is where the gradient runaway of the larger-input and
# longer runs started (non-finite at epochs 10 and 18); with lr_mult 0.1 the gradient norm
# stays at 200-250 and the run is stable.
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'_fusion': dict(lr_mult=0.1)}))
# Measured with the authors' block (no QK norm, see models/hfl_r18.py): kept so.
model = dict(obj_to_hand_fusion=dict(qk_norm=False), hand_to_obj_fusion=dict(qk_norm=False))
