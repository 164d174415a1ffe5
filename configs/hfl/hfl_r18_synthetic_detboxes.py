# The quick-start HFL-Net tested on DETECTED boxes (and the detected object class) on the
# held-out sequences SM3 and ABF11, to compare with its ground-truth-box validation (same frames,
# same metrics: Epoch(val) of configs/hfl/hfl_r18_synthetic.py). First write the detections:
#   python tools/test.py configs/det/fcos_mbv3s_synthetic.py \
#       work_dirs/fcos_mbv3s_synthetic/epoch_24.pth --out data/synthetic/fcos_mbv3s_sm3_dets.json
#   python tools/test.py configs/hfl/hfl_r18_synthetic_detboxes.py \
#       work_dirs/hfl_r18_synthetic/epoch_10.pth
# Another detection file: --cfg-options test_dataloader.dataset.pipeline.1.det_file=DETS.json
# A frame without a detection above score_thr falls back to its ground-truth box (counted and
# logged as a warning); fallback='image' drops the box instead.
_base_ = ['./hfl_r18_synthetic.py']

input_size = 96
roi_size = 16
# The validation pipeline of hfl_r18_synthetic.py with LoadDetectedBoxes after the loading.
det_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadDetectedBoxes', det_file='data/synthetic/fcos_mbv3s_sm3_dets.json',
         score_thr=0.3, obj_selection='score', fallback='gt', hand_side='gt',
         obj_model_root='data/synthetic/ho3d/models'),
    dict(type='LoadObjectMask'),
    dict(type='GenerateHandVertices', mano_root='data/synthetic/ho3d/mano'),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5),
    dict(type='HandObjectAffine', input_size=input_size, interpolation='bilinear'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=roi_size),
    dict(type='PackHandObjectInputs'),
]
test_dataloader = dict(
    _delete_=True,
    batch_size=8,
    num_workers=2,
    persistent_workers=False,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    collate_fn=dict(type='pseudo_collate'),
    dataset=dict(type='SyntheticHO3DDataset', data_root='data/synthetic/ho3d', num_frames=768,
                 seed=0, gen_workers=2, split='val', val_sequences=['SM3', 'ABF11'],
                 test_mode=True,
                 pipeline=det_pipeline))
test_evaluator = {{_base_.val_evaluator}}
