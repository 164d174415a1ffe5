# The quick-start HFL-Net on ground-truth boxes, scored with the wrist it solves itself
# (pred_instances.hand_root) next to the GT wrist, on the held-out sequences SM3 and ABF11 (the
# validation frames). HandRootMetric adds hand/root_error_mm, hand/MPJPE_abs_mm (joints at the
# solved wrist) and hand/MPJPE_abs_gtroot_mm (the same joints at the GT wrist). With detected
# boxes as well: hfl_r18_synthetic_detboxes_noroot.py.
#   python tools/test.py configs/hfl/hfl_r18_synthetic_noroot.py \
#       work_dirs/hfl_r18_synthetic/epoch_10.pth
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r18.py',
    '../_base_/datasets/synthetic_ho3d.py', '../_base_/schedules/synthetic_adam_10e_step8.py'
]

test_dataloader = {{_base_.val_dataloader}}
test_evaluator = {{_base_.noroot_test_evaluator}}
default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
