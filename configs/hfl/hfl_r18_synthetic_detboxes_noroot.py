# The quick-start HFL-Net without any ground truth at test time: detected boxes (see
# configs/_base_/datasets/synthetic_ho3d_detboxes.py for the detection file) and the wrist solved
# from the predicted joints (pred_instances.hand_root) instead of the GT wrist. HandRootMetric
# adds hand/root_error_mm, hand/MPJPE_abs_mm (joints at the solved wrist) and
# hand/MPJPE_abs_gtroot_mm (the same joints at the GT wrist, the published protocol); the HO3D
# and object keys are those of hfl_r18_synthetic_detboxes.py.
#   python tools/test.py configs/hfl/hfl_r18_synthetic_detboxes_noroot.py \
#       work_dirs/hfl_r18_synthetic/epoch_10.pth
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r18.py',
    '../_base_/datasets/synthetic_ho3d_detboxes.py',
    '../_base_/schedules/synthetic_adam_10e_step8.py'
]

test_evaluator = {{_base_.noroot_test_evaluator}}
default_hooks = dict(logger=dict(interval=10))
custom_hooks = [dict(type='RNGStateHook'), dict(type='ValidateBeforeTrainHook')]
