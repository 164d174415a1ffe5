# Not fused (unlike the R50 schedules adam_*.py): the quick-start recipe as it was measured.
# The quick start's schedule (synthetic world, batch 8): Adam 2e-3, lr x0.1 after epoch 8,
# gradient clipping, validation at the end.
# 546 training frames, batch 8: 69 iterations an epoch.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# Gradient clipping: the benchmark's first run (no clipping) turned non-finite at its 724th
# iteration at lr 2e-3.
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-3),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type='StepLR', step_size=8, gamma=0.1, by_epoch=True)]
# tools/train.py --auto-scale-lr: lr x (total batch / 8).
auto_scale_lr = dict(enable=False, base_batch_size=8)
