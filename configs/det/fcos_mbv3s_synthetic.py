# Quick-start hand/object detector: a small FCOS (MobileNetV3-small FPN, 64 channels, random
# init) on the built-in synthetic world (data/synthetic/ho3d, generated on first use, the same
# world and splits as configs/hfl/hfl_r18_synthetic.py), images resized to 160x120 inside the
# model. Trains on a 2-core CPU in minutes; scored on the held-out sequences SM3 and ABF11.
#   python tools/train.py configs/det/fcos_mbv3s_synthetic.py
#   python tools/test.py configs/det/fcos_mbv3s_synthetic.py \
#       work_dirs/fcos_mbv3s_synthetic/epoch_20.pth --out data/synthetic/fcos_mbv3s_sm3_dets.json
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/det_fcos_r50.py',
    '../_base_/datasets/det_pipelines.py'
]
dataset_type = 'SyntheticHO3DDataset'
data_root = 'data/synthetic/ho3d'
world = dict(data_root=data_root, num_frames=768, seed=0, gen_workers=2,
             val_sequences=['SM3', 'ABF11'])

model = dict(backbone=dict(name='mobilenet_v3_small', fpn_channels=64, returned_layers=None),
             head_convs=2, min_size=120, max_size=160)

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    worker_init_fn=dict(type='mmhandobj.epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, split='train', pipeline={{_base_.train_pipeline}}, **world))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, split='val', test_mode=True,
                 pipeline={{_base_.test_pipeline}}, **world))
test_dataloader = val_dataloader
val_evaluator = dict(type='HandObjectBoxMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=2e-3),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type='MultiStepLR', milestones=[16], gamma=0.1, by_epoch=True)]
default_hooks = dict(logger=dict(interval=10))
