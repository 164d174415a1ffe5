# Hand/object detector: torchvision FCOS on a ResNet-50 FPN (random init, nothing downloaded),
# classes = background, right hand, left hand and the 21 YCB objects
# (NUM_DET_CLASSES of mmhandobj.structures.detection_classes).
# ImageNet initialisation (optional): model.backbone.checkpoint = a local torchvision
# resnet50 state_dict file.
model = dict(
    type='HandObjectDetector',
    arch='fcos',
    data_preprocessor=dict(
        type='ImgDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0],
        bgr_to_rgb=True),
    backbone=dict(name='resnet50', fpn_channels=256, returned_layers=[2, 3, 4]),
    head_convs=4,
    min_size=480,
    max_size=640,
    score_thresh=0.05,
    nms_thresh=0.5,
    detections_per_img=20,
    num_classes=24)
