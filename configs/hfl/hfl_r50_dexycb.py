# HFL-Net, ResNet-50, DexYCB s0: the authors' setting (docs/reference_parity.md R17, R24-R25, R30).
# Batch 64, Adam lr 1e-4, wd 5e-4, 40 epochs, lr x0.7 every 5 epochs; both hands (left hands
# mirrored to right, un-mirrored by the metrics); GT boxes at test time.
# Metrics: MPJPE / PA-MPJPE (HandOccNet/HFL-Net protocol), object ADD(-S)-0.1D and REP-5px.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r50.py',
    '../_base_/datasets/dexycb.py', '../_base_/schedules/adam_40e_step5.py'
]
