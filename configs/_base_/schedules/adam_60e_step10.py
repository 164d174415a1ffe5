# Semi-Hand-Object's schedule (its traineval.py / utils/options.py): Adam lr 1e-4, coupled
# weight decay 5e-4, 60 epochs, lr x0.7 every 10 epochs (lr(e) = 1e-4 * 0.7 ** (e // 10)),
# evaluation every 10 epochs; batch 24 (set by the dataset config).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=60, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# fused=True: torch's single-kernel Adam (the same update; float rounding aside), several
# times faster than the per-parameter loop on CPU and GPU (configs/hfl/README.md, speed).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4, fused=True))
param_scheduler = [dict(type='StepLR', step_size=10, gamma=0.7, by_epoch=True)]
auto_scale_lr = dict(enable=False, base_batch_size=24)
