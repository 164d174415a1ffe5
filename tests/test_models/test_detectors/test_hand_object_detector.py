"""HandObjectDetector: the three torchvision architectures under MMEngine's modes."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import BaseDataElement, InstanceData

from mmhandobj.models.detectors import HandObjectDetector, build_fpn_backbone, feature_strides
from mmhandobj.structures.detection_classes import DET_CATEGORIES, NUM_DET_CLASSES, RIGHT_HAND_ID

TINY = dict(backbone=dict(name='mobilenet_v3_small', fpn_channels=32), head_convs=1,
            min_size=64, max_size=64, num_classes=NUM_DET_CLASSES)
DET_CONFIGS = sorted((Path(__file__).parents[3] / 'configs' / 'det').glob('*.py'))


def _samples(num):
    samples = []
    for _ in range(num):
        gt = InstanceData()
        gt.bboxes = torch.tensor([[8.0, 10.0, 30.0, 40.0], [20.0, 20.0, 60.0, 50.0]])
        gt.labels = torch.tensor([RIGHT_HAND_ID, 7])
        sample = BaseDataElement()
        sample.gt_instances = gt
        samples.append(sample)
    return samples


@pytest.mark.parametrize('arch,loss_keys', [
    ('fcos', {'loss_classification', 'loss_bbox_regression', 'loss_bbox_ctrness'}),
    ('retinanet', {'loss_classification', 'loss_bbox_regression'}),
    ('faster_rcnn', {'loss_classifier', 'loss_box_reg', 'loss_objectness', 'loss_rpn_box_reg'}),
])
def test_loss_and_predict_modes(arch, loss_keys):
    torch.manual_seed(0)
    model = HandObjectDetector(arch=arch, **TINY)
    images = torch.rand(2, 3, 64, 64)
    model.train()
    losses = model(images, _samples(2), mode='loss')
    assert set(losses) == loss_keys and all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    first_conv = next(m for m in model.detector.backbone.body.modules()
                      if isinstance(m, torch.nn.Conv2d))
    assert first_conv.weight.grad is not None and bool(first_conv.weight.grad.abs().sum() > 0)
    model.eval()
    with pytest.raises(RuntimeError, match='model.train'):
        model(images, _samples(2), mode='loss')
    out = model(images, _samples(2), mode='predict')
    for sample in out:
        pred = sample.pred_instances
        assert pred.bboxes.shape[1:] == (4,) and len(pred.scores) == len(pred.labels)
        assert bool((pred.scores[:-1] >= pred.scores[1:]).all())  # best first
        assert bool(((pred.labels >= 1) & (pred.labels < NUM_DET_CLASSES)).all())
        assert bool((pred.bboxes >= 0).all() and (pred.bboxes <= 64).all())


def test_backbone_levels_and_bad_arguments():
    assert feature_strides(build_fpn_backbone('resnet18', 16)) == [8, 16, 32, 64, 128]
    assert feature_strides(build_fpn_backbone('mobilenet_v3_small', 16, [16, 32],
                                              extra_levels='pool')) == [16, 32, 64]
    with pytest.raises(ValueError, match='output strides'):
        build_fpn_backbone('mobilenet_v3_small', 16, [4, 128])
    with pytest.raises(ValueError, match='arch must be one of'):
        HandObjectDetector(arch='yolo', **TINY)
    model = HandObjectDetector(**TINY)
    with pytest.raises(ValueError, match=r'float \(3, H, W\) RGB'):
        model(torch.zeros(1, 3, 64, 64, dtype=torch.uint8), mode='predict')
    with pytest.raises(ValueError, match='multiple of 32'):
        HandObjectDetector(arch='fcos', backbone=dict(name='resnet18', fpn_channels=48),
                           num_classes=NUM_DET_CLASSES)


@pytest.mark.parametrize('config', DET_CONFIGS, ids=lambda p: p.name)
def test_det_config_states_the_class_table(config):
    """The detector's classes come from the config (as in mmdet), counted from the table."""
    assert NUM_DET_CLASSES == 1 + len(DET_CATEGORIES) == 24  # background, 2 hands, 21 YCB
    assert Config.fromfile(str(config)).model.num_classes == NUM_DET_CLASSES


def test_num_classes_is_required():
    with pytest.raises(TypeError, match='num_classes'):
        HandObjectDetector(**{k: v for k, v in TINY.items() if k != 'num_classes'})
