# The quick start (hfl_r18_synthetic.py) with CBAM before both interaction blocks, standard
# reading: channel gate sigmoid(mlp(GAP) + mlp(GMP)), query only gated. See configs/hfl/cbam.md.
#   python tools/train.py configs/hfl/hfl_r18_cbam_synthetic.py
_base_ = ['./hfl_r18_synthetic.py']

model = dict(
    obj_to_hand_fusion=dict(cbam=True),
    hand_to_obj_fusion=dict(cbam=True))
