# Quick-start-sized single-stream HFL-Net (every trunk stage and the FPN shared by the hand and
# the object), otherwise configs/hfl/hfl_r18_synthetic.py: same data, schedule and seed.
#   python tools/train.py configs/hfl/ablations/hfl_r18_single_stream_synthetic.py
_base_ = ['../hfl_r18_synthetic.py']

model = dict(backbone=dict(split_stages=()), neck=dict(share_weights=True))
