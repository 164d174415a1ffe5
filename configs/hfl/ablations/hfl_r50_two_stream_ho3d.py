# HFL-Net ablation, HO3D v2: two-stream trunk with nothing shared (stem, layer1-layer4 and the
# FPN per stream); both interaction blocks kept. Everything else as configs/hfl/hfl_r50_ho3d.py.
_base_ = ['../hfl_r50_ho3d.py']

model = dict(backbone=dict(split_stages=(0, 1, 2, 3, 4)))
