# The quick-start data tested on DETECTED boxes (and the detected object class) on the held-out
# sequences SM3 and ABF11 (the validation frames of synthetic_ho3d.py, same metrics). The
# detection file comes from the quick-start detector:
#   python tools/test.py configs/det/fcos_mbv3s_synthetic.py \
#       work_dirs/fcos_mbv3s_synthetic/epoch_24.pth --out data/synthetic/fcos_mbv3s_sm3_dets.json
# Another detection file: --cfg-options test_dataloader.dataset.pipeline.1.det_file=DETS.json
# A frame without a detection above score_thr falls back to its ground-truth box (counted and
# logged as a warning); fallback='image' drops the box instead.
_base_ = './synthetic_ho3d.py'

# The validation pipeline of synthetic_ho3d.py with LoadDetectedBoxes after the loading.
det_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadDetectedBoxes', det_file='data/synthetic/fcos_mbv3s_sm3_dets.json',
         score_thr=0.3, obj_selection='score', fallback='gt', hand_side='gt',
         obj_model_root={{_base_.obj_model_root}}),
    dict(type='LoadObjectMask'),
    dict(type='GenerateHandVertices', mano_root={{_base_.mano_root}}),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand={{_base_.crop_expand}}),
    dict(type='HandObjectAffine', input_size={{_base_.input_size}}, interpolation='bilinear'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0,
         mask_size={{_base_.mask_size}}),
    dict(type='PackHandObjectInputs'),
]
# The held-out sequences (the validation frames), with the detected boxes.
test_dataloader = dict(
    persistent_workers=False,
    dataset=dict(split='val', val_sequences={{_base_.val_sequences}}, pipeline=det_pipeline))
test_evaluator = {{_base_.val_evaluator}}
