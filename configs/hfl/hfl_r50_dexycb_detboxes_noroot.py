# HFL-Net R50 on DexYCB s0 without any ground truth at test time: detected boxes and the wrist
# solved from the predicted joints (pred_instances.hand_root). HandRootMetric reports
# hand/root_error_mm, hand/MPJPE_abs_mm (joints at the solved wrist) and
# hand/MPJPE_abs_gtroot_mm (at the GT wrist); DexYCBHandMetric keeps the GT-wrist protocol of
# the paper. Detections first:
#   python tools/test.py DET_CONFIG DET_CKPT --out data/dexycb/dets_s0_test.json
# (a detector trained on DexYCB s0, run on the same split), then
#   python tools/test.py configs/hfl/hfl_r50_dexycb_detboxes_noroot.py CKPT
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r50.py',
    '../_base_/datasets/dexycb.py', '../_base_/schedules/adam_40e_step5.py'
]

# The detection file (tools/test.py DET_CONFIG DET_CKPT --out FILE on the test split). The
# pipeline below reads it at build time: on the command line override the pipeline entry,
#   --cfg-options test_dataloader.dataset.pipeline.1.det_file=DETS.json
det_file = 'data/dexycb/dets_s0_test.json'
obj_model_root = 'data/dexycb/models'
# The test pipeline of datasets/dexycb.py with LoadDetectedBoxes after the loading.
det_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='LoadDetectedBoxes', det_file=det_file, score_thr=0.3, obj_selection='score',
         fallback='gt', hand_side='gt', obj_model_root=obj_model_root),
    dict(type='CanonicalizeHandSide'),
    dict(type='GetHandObjectCrop', expand=1.5),
    dict(type='HandObjectAffine', input_size=256, interpolation='nearest'),
    dict(type='GenerateHandObjectTargets', hand_expand=1.1, obj_expand=1.0, mask_size=32),
    dict(type='PackHandObjectInputs'),
]
test_dataloader = dict(persistent_workers=False, dataset=dict(pipeline=det_pipeline))
test_evaluator = [
    dict(type='DexYCBHandMetric'),
    dict(type='ObjectPoseMetric', obj_model_root=obj_model_root),
    dict(type='HandRootMetric'),
]
