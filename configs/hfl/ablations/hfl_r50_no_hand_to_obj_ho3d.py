# HFL-Net ablation, HO3D v2: the hand-to-object block switched off (the object head reads the
# object RoI directly); HFL-Net's trunk split and object-to-hand block kept. Everything else as
# configs/hfl/hfl_r50_ho3d.py.
_base_ = ['../hfl_r50_ho3d.py']

model = dict(hand_to_obj_fusion=None)
val_evaluator = [
    dict(type='HO3DMetric', version='v2', out_dir='work_dirs/hfl_r50_no_hand_to_obj_ho3d'),
    dict(type='ObjectPoseMetric', obj_model_root='data/ho3d/models', symmetric_objects=[],
         rep_frame='crop', exclude_from_mean=['019_pitcher_base']),
]
test_evaluator = val_evaluator
