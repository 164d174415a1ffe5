# Semi-Hand-Object (Liu et al., CVPR 2021; stevenlsw/Semi-Hand-Object) with a ResNet-50: one
# LeakyReLU(0.01) trunk, one FPN (P2 only), RoIAlign 32x32 on P2 of the hand, object and
# intersection boxes, the hand head on the hand RoI, one contextual-reasoning (CR) block with
# one head (object RoI attends to the intersection RoI, gradient not stopped) before the object
# head. Hand and object heads, losses and PnP are HFL-Net's (HFL-Net forked this network).
# MANO as SHO's HO3D layer: metres, its fingertip vertices (fingertips='sho').
# No head init of HFL-Net's: SHO keeps PyTorch's defaults, Xavier-uniform CR MLP weights and
# zero object-head conv biases.
# 33,299,859 trainable parameters (SHO's checkpoints hold 1,180,160 more: two FPN smoothing
# convs whose output no head reads, dropped by tools/model_converters/sho_to_mmhandobj.py).
# The reference initialised the trunk from torchvision's ImageNet ResNet-50; set
# model.backbone.init_cfg = dict(type='Pretrained', checkpoint='torchvision://resnet50')
# (downloads) or a local path to do so.
model = dict(
    type='SemiHandObject',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
        bgr_to_rgb=True),
    backbone=dict(
        type='HFLResNet', depth=50, split_stages=(),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01, inplace=True), init_cfg=None),
    neck=dict(type='DualFPN', in_channels=[256, 512, 1024, 2048], out_channels=256,
              share_weights=True),
    roi_extractor=dict(
        type='HandObjectRoIExtractor', output_size=32, spatial_scale=0.25, sampling_ratio=-1,
        aligned=False),
    contextual_reasoning=dict(
        type='HandToObjectFusion', in_channels=256, num_heads=1, mlp_ratio=4.0,
        num_layers=1, detach_context=False, cbam=False,
        init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform', bias=0.0)]),
    hand_head=dict(
        type='HandMANOHead', in_channels=256, roi_size=32, num_joints=21, hourglass_depth=4,
        encoder_stages=4, mano_hidden=[1024, 512],
        mano_cfg=dict(mano_root='data/mano', side='right', use_pca=False,
                      flat_hand_mean=True, center_idx=0, units='m',
                      fingertips='sho'),
        act_cfg=dict(type='LeakyReLU', negative_slope=0.01, inplace=True),
        loss_verts=dict(type='MSELoss', loss_weight=1e4),
        loss_joints=dict(type='MSELoss', loss_weight=1e4),
        loss_pose=dict(type='MSELoss', loss_weight=10.0),
        loss_shape=dict(type='MSELoss', loss_weight=0.1),
        loss_joints2d=dict(type='MSELoss', loss_weight=100.0),
        init_cfg=[]),
    obj_head=dict(
        type='ObjectKeypointHead', in_channels=256, num_keypoints=21,
        act_cfg=dict(type='LeakyReLU', negative_slope=0.1, inplace=True),
        loss_reg=dict(type='VoteRegressionLoss', loss_weight=500.0),
        loss_conf=dict(type='VoteConfidenceLoss', loss_weight=100.0),
        # PyTorch's default conv weights (kaiming-uniform, a = sqrt(5)) with zero biases
        init_cfg=[dict(type='Kaiming', layer='Conv2d', a=5**0.5, mode='fan_in',
                       nonlinearity='leaky_relu', distribution='uniform', bias=0.0)]),
    train_cfg=dict(check_finite=True),
    test_cfg=dict(vote_topk=10, vote_conf_thr=0.5, pnp_min_points=6),
)
