# Quick-start-sized two-stream HFL-Net (nothing shared: a whole trunk and an FPN per stream),
# otherwise configs/hfl/hfl_r18_synthetic.py: same data, schedule and seed.
#   python tools/train.py configs/hfl/ablations/hfl_r18_two_stream_synthetic.py
_base_ = ['../hfl_r18_synthetic.py']

model = dict(backbone=dict(split_stages=(0, 1, 2, 3, 4)))
