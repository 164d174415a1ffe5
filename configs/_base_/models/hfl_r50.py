# HFL-Net with a ResNet-50 two-stream trunk, as the authors' released code (lzfff12/HFL-Net):
# LeakyReLU(0.01) backbone, no ImageNet mean/std (input RGB in [0, 1]), RoIAlign 32x32 on P2,
# one 4-head interaction block per direction, hourglass + MANO hand head, 21-keypoint object
# votes solved by EPnP-RANSAC (top-10 votes per keypoint with confidence > 0.5).
# 46,080,659 trainable parameters, 22.66 GMAC per 256x256 image (the authors' code: 23.19,
# it also computes the discarded half of the object-to-hand block's last MLP layer).
# The reference initialised the trunk from torchvision's ImageNet ResNet-50; set
# model.backbone.init_cfg = dict(type='Pretrained', checkpoint='torchvision://resnet50')
# (downloads) or a local path to do so.
model = dict(
    type='HFLNet',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
        bgr_to_rgb=True),
    backbone=dict(
        type='HFLResNet', depth=50,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01, inplace=True), init_cfg=None),
    neck=dict(type='DualFPN', in_channels=[256, 512, 1024, 2048], out_channels=256),
    roi_extractor=dict(
        type='HandObjectRoIExtractor', output_size=32, spatial_scale=0.25, sampling_ratio=-1,
        aligned=False),
    obj_to_hand_fusion=dict(
        type='ObjectToHandFusion', in_channels=256, num_heads=4, mlp_ratio=4.0,
        num_layers=1, detach_context=True, cbam=False),
    hand_to_obj_fusion=dict(
        type='HandToObjectFusion', in_channels=256, num_heads=4, mlp_ratio=4.0,
        num_layers=1, detach_context=True, cbam=False),
    hand_head=dict(
        type='HandMANOHead', in_channels=256, roi_size=32, num_joints=21, hourglass_depth=4,
        encoder_stages=4, mano_hidden=[1024, 512],
        mano_cfg=dict(mano_root='data/mano', side='right', use_pca=False,
                      flat_hand_mean=True, center_idx=0, units='mm'),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01, inplace=True),
        loss_verts=dict(type='MSELoss', loss_weight=1e4),
        loss_joints=dict(type='MSELoss', loss_weight=1e4),
        loss_pose=dict(type='MSELoss', loss_weight=10.0),
        loss_shape=dict(type='MSELoss', loss_weight=0.1),
        loss_joints2d=dict(type='MSELoss', loss_weight=100.0)),
    obj_head=dict(
        type='ObjectKeypointHead', in_channels=256, num_keypoints=21,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.1, inplace=True),
        loss_reg=dict(type='VoteRegressionLoss', loss_weight=500.0),
        loss_conf=dict(type='VoteConfidenceLoss', loss_weight=100.0)),
    train_cfg=dict(check_finite=True),
    test_cfg=dict(vote_topk=10, vote_conf_thr=0.5, pnp_min_points=6),
)
