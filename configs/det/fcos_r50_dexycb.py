# Hand/object detector (FCOS, ResNet-50 FPN, random init) on DexYCB s0, trained on the same
# annotation files as HFL-Net
# (python tools/dataset_converters/dexycb.py data/dexycb --mano-root data/mano --setups s0).
#   python tools/train.py configs/det/fcos_r50_dexycb.py
#   python tools/test.py configs/det/fcos_r50_dexycb.py work_dirs/fcos_r50_dexycb/epoch_12.pth \
#       --out work_dirs/fcos_r50_dexycb/dets.json
# Both hands: left-hand frames give the left_hand class (and the random flip makes more).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/det_fcos_r50.py',
    '../_base_/datasets/det_pipelines.py'
]
dataset_type = 'DexYCBDataset'
data_root = 'data/dexycb'

train_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=False,
    worker_init_fn=dict(type='mmhandobj.epoch_worker_init_fn'),
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, setup='s0', split='train',
                 obj_model_root='models', pipeline={{_base_.train_pipeline}}))
val_dataloader = dict(
    batch_size=16,
    num_workers=8,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type=dataset_type, data_root=data_root, setup='s0', split='test',
                 obj_model_root='models', test_mode=True, pipeline={{_base_.test_pipeline}}))
test_dataloader = val_dataloader
val_evaluator = dict(type='HandObjectBoxMetric')
test_evaluator = val_evaluator

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=12, val_interval=4)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='Adam', lr=1e-4),
                     clip_grad=dict(max_norm=10.0))
param_scheduler = [dict(type='MultiStepLR', milestones=[8, 11], gamma=0.1, by_epoch=True)]
