# HFL-Net ablation, HO3D v2: the object-to-hand block switched off (the hand head reads the
# hand RoI directly); HFL-Net's trunk split and hand-to-object block kept. Everything else as
# configs/hfl/hfl_r50_ho3d.py.
_base_ = ['../hfl_r50_ho3d.py']

model = dict(obj_to_hand_fusion=None)
val_evaluator = [
    dict(type='HO3DMetric', version='v2', out_dir='work_dirs/hfl_r50_no_obj_to_hand_ho3d'),
    dict(type='ObjectPoseMetric', obj_model_root='data/ho3d/models', symmetric_objects=[],
         rep_frame='crop', exclude_from_mean=['019_pitcher_base']),
]
test_evaluator = val_evaluator
