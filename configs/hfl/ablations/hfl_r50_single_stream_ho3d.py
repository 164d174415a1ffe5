# HFL-Net ablation, HO3D v2: single-stream trunk (every stage shared by hand and object) and
# one FPN; both interaction blocks kept. Everything else as configs/hfl/hfl_r50_ho3d.py.
_base_ = ['../hfl_r50_ho3d.py']

model = dict(backbone=dict(split_stages=()), neck=dict(share_weights=True))
