# HFL-Net with CBAM (channel + spatial attention) before both interaction blocks, HO3D v2.
# Everything else as hfl_r50_ho3d.py.
_base_ = ['./hfl_r50_ho3d.py']

model = dict(
    obj_to_hand_fusion=dict(cbam=True),
    hand_to_obj_fusion=dict(cbam=True))
val_evaluator = [
    dict(type='HO3DMetric', version='v2', out_dir='work_dirs/hfl_r50_cbam_ho3d'),
    dict(type='ObjectPoseMetric', obj_model_root='data/ho3d/models', symmetric_objects=[],
         rep_frame='crop', exclude_from_mean=['019_pitcher_base']),
]
test_evaluator = val_evaluator
