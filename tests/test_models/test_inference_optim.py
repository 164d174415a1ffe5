"""Conv-BatchNorm folding: same eval outputs as the unfused model, every declared pair folded."""
import copy

import pytest
import torch
from mmengine.structures import InstanceData
from torch import nn

from mmhandobj.models.backbones import HFLResNet
from mmhandobj.models.inference_optim import fold_bn_into_conv, fuse_conv_bn
from mmhandobj.registry import MODELS
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample


def make_samples():
    """Two samples with the hand and object boxes (all that ``mode='tensor'`` reads)."""
    samples = []
    for hand, obj in (([4., 6., 40., 44.], [20., 24., 60., 62.]),
                      ([20., 10., 60., 50.], [2., 30., 30., 60.])):
        gt = InstanceData(hand_bboxes=torch.tensor([hand]), obj_bboxes=torch.tensor([obj]))
        samples.append(HandObjectDataSample(gt_instances=gt))
    return samples


def randomise_batch_norms(model: nn.Module, seed: int = 0) -> None:
    """Non-trivial affine parameters and running statistics (fresh ones are an identity)."""
    gen = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = 0.5 + torch.rand(n, generator=gen)
            m.bias.data = 0.2 * torch.randn(n, generator=gen)
            m.running_mean = 0.2 * torch.randn(n, generator=gen)
            m.running_var = 0.5 + torch.rand(n, generator=gen)


def assert_close_relative(out, ref, rtol=1e-4):
    scale = ref.abs().max().clamp(min=1e-12)
    assert (out - ref).abs().max() <= rtol * scale, (out - ref).abs().max() / scale


@pytest.mark.parametrize('bias', [False, True])
def test_fold_matches_conv_then_bn(bias):
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 5, 3, padding=1, bias=bias)
    bn = nn.BatchNorm2d(5, eps=1e-3)
    randomise_batch_norms(nn.Sequential(bn))
    x = torch.randn(2, 3, 8, 8)
    expected = bn.eval()(conv(x))
    fused = copy.deepcopy(conv)
    fold_bn_into_conv(fused, bn)
    assert fused.bias is not None
    torch.testing.assert_close(fused(x), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='output channels'):
        fold_bn_into_conv(copy.deepcopy(conv), nn.BatchNorm2d(4))


@pytest.mark.parametrize('split_stages', [(2, 3), (), (0, 1, 2, 3, 4)])
def test_bottleneck_trunk_fused_equals_unfused(split_stages):
    # HFL-Net's split, single-stream and two-stream (a stem per stream: both stems fold)
    trunk = HFLResNet(depth=50, base_channels=8, split_stages=split_stages)
    trunk.init_weights()
    randomise_batch_norms(trunk)
    trunk.eval()
    fused = copy.deepcopy(trunk)
    num_bn = sum(isinstance(m, nn.BatchNorm2d) for m in trunk.modules())
    assert fuse_conv_bn(fused) == num_bn  # stem, 3 per block, every downsample
    assert not any(isinstance(m, nn.BatchNorm2d) for m in fused.modules())
    x = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        for out, ref in zip(torch.utils._pytree.tree_leaves(fused(x)),
                            torch.utils._pytree.tree_leaves(trunk(x))):
            assert_close_relative(out, ref)


def test_hflnet_fused_equals_unfused(hfl_model_cfg):
    cfg = hfl_model_cfg()  # with CBAM, whose spatial gate has a conv -> BatchNorm pair
    cfg['obj_to_hand_fusion']['cbam'] = cfg['hand_to_obj_fusion']['cbam'] = True
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    model.init_weights()
    randomise_batch_norms(model)
    model.eval()
    fused = copy.deepcopy(model)
    with pytest.raises(RuntimeError, match='eval'):
        fuse_conv_bn(copy.deepcopy(model).train())
    folded = fuse_conv_bn(fused)
    # Left: the first BatchNorm of each pre-activation block (it normalises the block input).
    left = [name for name, m in fused.named_modules() if isinstance(m, nn.BatchNorm2d)]
    preact = [name for name, m in model.named_modules() if type(m).__name__ == 'PreActBottleneck']
    assert sorted(left) == sorted(f'{p}.{m.norm_names[0]}' for p, m in model.named_modules()
                                  if p in preact)
    assert folded == sum(isinstance(m, nn.BatchNorm2d) for m in model.modules()) - len(left)
    assert fuse_conv_bn(fused) == 0  # idempotent
    images = torch.rand(2, 3, 64, 64)
    samples = make_samples()
    with torch.no_grad():
        out = fused(images, samples, mode='tensor')
        ref = model(images, samples, mode='tensor')
    assert out.keys() == ref.keys()
    for key in ref:
        assert_close_relative(out[key], ref[key])
