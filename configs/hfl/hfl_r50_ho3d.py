# HFL-Net, ResNet-50, HO3D v2: the authors' setting (docs/reference_parity.md R17).
# Batch 64 (one GPU; the authors used 4x16 with per-GPU BN), Adam lr 1e-4, wd 5e-4,
# 70 epochs, lr x0.7 every 10 epochs; RGB in [0, 1] without mean/std; LeakyReLU backbone;
# GT hand/object boxes at test time (the protocol of the paper).
# Test writes <work_dir>/test/pred.json + pred.zip for the HO3D (CodaLab) server (validation
# during training writes <work_dir>/val/; see MetricOutDirHook).
# The reference initialised the trunk from ImageNet: add
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#                 model.backbone.init_cfg.checkpoint=<resnet50 .pth or torchvision://resnet50>
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/hfl_r50.py',
    '../_base_/datasets/ho3d.py', '../_base_/schedules/adam_70e_step10.py'
]
