# HFL-Net ablation, HO3D v2: two-stream trunk with nothing shared (stem, layer1-layer4 and the
# FPN per stream); both interaction blocks kept. Everything else as configs/hfl/hfl_r50_ho3d.py.
_base_ = ['../hfl_r50_ho3d.py']

model = dict(backbone=dict(split_stages=(0, 1, 2, 3, 4)))
val_evaluator = [
    dict(type='HO3DMetric', version='v2', out_dir='work_dirs/hfl_r50_two_stream_ho3d'),
    dict(type='ObjectPoseMetric', obj_model_root='data/ho3d/models', symmetric_objects=[],
         rep_frame='crop', exclude_from_mean=['019_pitcher_base']),
]
test_evaluator = val_evaluator
