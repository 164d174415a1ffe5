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
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r18.py',
    '../_base_/datasets/synthetic_ho3d_detboxes.py',
    '../_base_/schedules/synthetic_adam_10e_step8.py'
]

default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
