# Detector pipelines: boxes and labels from the annotation files the HFL-Net datasets read
# (hand = tight box of the 2D joints, object = tight box of the projected 3D box keypoints of
# its model; GenerateDetectionTargets), full images (torchvision resizes them internally).
train_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='GenerateDetectionTargets'),
    dict(type='DetectionRandomFlip', prob=0.5),
    dict(type='HandObjectPhotometric', blur_range=(0.0, 0.5), brightness=0.3, contrast=0.3,
         saturation=0.3, hue=0.05),
    dict(type='PackDetectionInputs'),
]
test_pipeline = [
    dict(type='LoadHandObjectImage', on_error='raise'),
    dict(type='GenerateDetectionTargets'),
    dict(type='PackDetectionInputs'),
]
