# DexYCB schedule of the reference: Adam lr 1e-4, coupled weight decay 5e-4, 40 epochs,
# lr x0.7 every 5 epochs (the reference's `epoch <= 35` guard changes nothing); batch 64.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=40, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# fused=True: torch's single-kernel Adam (the same update; float rounding aside), several
# times faster than the per-parameter loop on CPU and GPU (configs/hfl/README.md, speed).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=5e-4, fused=True))
param_scheduler = [dict(type='StepLR', step_size=5, gamma=0.7, by_epoch=True)]
auto_scale_lr = dict(enable=False, base_batch_size=64)
