# The quick-start-sized Semi-Hand-Object: half-width R18 trunk (one stream, one FPN), 64
# channels, 16x16 RoIs. SHO's wiring and initialisation as models/sho_r50.py; the MANO layer is
# the synthetic world's stand-in with its fingertip convention (SHO's HO3D fingertips would add
# a fixed error unrelated to the network).
roi_size = 16
channels = 64
model = dict(
    type='SemiHandObject',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
        bgr_to_rgb=True),
    backbone=dict(type='HFLResNet', depth=18, base_channels=32, split_stages=()),
    neck=dict(type='DualFPN', in_channels=[32, 64, 128, 256], out_channels=channels,
              share_weights=True),
    roi_extractor=dict(type='HandObjectRoIExtractor', output_size=roi_size, spatial_scale=0.25),
    contextual_reasoning=dict(
        type='HandToObjectFusion', in_channels=channels, num_heads=1, detach_context=False,
        init_cfg=[dict(type='Xavier', layer='Linear', distribution='uniform', bias=0.0)]),
    hand_head=dict(type='HandMANOHead', in_channels=channels, roi_size=roi_size,
                   encoder_stages=3, mano_cfg=dict(mano_root=None, standin_seed=0, units='m'),
                   init_cfg=[]),
    obj_head=dict(
        type='ObjectKeypointHead', in_channels=channels,
        init_cfg=[dict(type='Kaiming', layer='Conv2d', a=5**0.5, mode='fan_in',
                       nonlinearity='leaky_relu', distribution='uniform', bias=0.0)]),
)
