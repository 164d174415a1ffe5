import pytest
import torch
import torchvision
from torch import nn

from mmhandobj.models.backbones import HFLResNet


def _params(module):
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_r18_shapes_tuple_and_dict():
    model = HFLResNet(depth=18)
    model.init_weights()
    x = torch.rand(2, 3, 64, 96)
    with torch.no_grad():
        hand, obj = model(x)
    assert hand[0] is obj[0]  # layer1 is shared: one C2
    for feats in (hand, obj):
        assert [tuple(f.shape) for f in feats] == [(2, 64, 16, 24), (2, 128, 8, 12),
                                                   (2, 256, 4, 6), (2, 512, 2, 3)]
    model.out_type = 'dict'
    with torch.no_grad():
        out = model(x)
    assert set(out) == {f'c{i}_{s}' for i in range(2, 6) for s in ('hand', 'obj')}
    torch.testing.assert_close(out['c5_obj'], obj[3])


@pytest.mark.parametrize('depth', [18, 50])
def test_base_channels_scale_every_stage(depth):
    model = HFLResNet(depth=depth, base_channels=16)
    model.init_weights()
    expansion = 1 if depth == 18 else 4
    assert model.out_channels == tuple(16 * m * expansion for m in (1, 2, 4, 8))
    with torch.no_grad():
        hand, obj = model(torch.rand(1, 3, 64, 64))
    assert [f.shape[1] for f in hand] == list(model.out_channels)
    assert [f.shape[1] for f in obj] == list(model.out_channels)
    # every conv is (16 / 64)^2 of the standard one's size, except the stem (3 input channels)
    full = HFLResNet(depth=depth)
    convs = [sum(m.weight.numel() for m in net.modules() if isinstance(m, nn.Conv2d))
             for net in (model, full)]
    stem = 3 * 7 * 7
    assert (convs[0] - 16 * stem) * 16 == convs[1] - 64 * stem


def test_r50_parameter_counts_match_reference():
    model = HFLResNet(depth=50)
    # Per-module numbers of the authors' network (docs/reference_parity.md R32).
    assert _params(model.conv1) + _params(model.bn1) == 9536
    assert _params(model.layer1) == 215808
    assert _params(model.layer2_hand) == _params(model.layer2_obj) == 1219584
    assert _params(model.layer3_hand) == _params(model.layer3_obj) == 7098368
    assert _params(model.layer4) == 14964736
    assert _params(model) == 31825984


def test_default_activation_is_leaky_relu_everywhere():
    model = HFLResNet(depth=18)
    acts = [m for m in model.modules() if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    assert acts and all(isinstance(m, nn.LeakyReLU) and m.negative_slope == 0.01 for m in acts)


def test_init_copies_hand_layers_to_object():
    torch.manual_seed(0)
    model = HFLResNet(depth=18)
    model.init_weights()
    for name in ('layer2', 'layer3'):
        hand = getattr(model, f'{name}_hand').state_dict()
        obj = getattr(model, f'{name}_obj').state_dict()
        for key in hand:
            assert torch.equal(hand[key], obj[key])
    # kaiming fan_out: std = sqrt(2 / (out_channels * k * k))
    std = model.conv1.weight.std().item()
    assert abs(std - (2 / (64 * 49))**0.5) < 0.1 * std


def test_torchvision_pretrained_load_and_forward_parity(tmp_path):
    torch.manual_seed(0)
    ref = torchvision.models.resnet18()
    for m in ref.modules():  # non-trivial BN statistics
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
    path = tmp_path / 'r18.pth'
    torch.save(ref.state_dict(), path)
    model = HFLResNet(depth=18, act_cfg=dict(type='ReLU', inplace=True),
                      init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    model.init_weights()
    assert torch.equal(model.layer2_obj[0].conv1.weight, ref.layer2[0].conv1.weight)
    ref.eval()
    model.eval()
    x = torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        hand, obj = model(x)
        r = ref.maxpool(ref.relu(ref.bn1(ref.conv1(x))))
        r2 = ref.layer1(r)
        r5 = ref.layer4(ref.layer3(ref.layer2(r2)))
    torch.testing.assert_close(hand[0], r2)
    torch.testing.assert_close(hand[3], r5)
    torch.testing.assert_close(obj[3], r5)


def test_pretrained_wrong_depth_raises(tmp_path):
    path = tmp_path / 'r18.pth'
    torch.save(torchvision.models.resnet18().state_dict(), path)
    model = HFLResNet(depth=34, init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    with pytest.raises((KeyError, RuntimeError)):
        model.init_weights()


def test_layer4_shared_and_channels_last():
    torch.manual_seed(0)
    model = HFLResNet(depth=18).eval()
    model.init_weights()
    with torch.no_grad():
        model.layer2_obj[0].conv1.weight.mul_(1.5)  # make the streams differ
        x = torch.rand(2, 3, 64, 64)
        hand, obj = model(x)
        torch.testing.assert_close(obj[3], model.layer4(obj[2]))
        assert not torch.allclose(hand[3], obj[3])
        model_cl = model.to(memory_format=torch.channels_last)
        hand_cl, obj_cl = model_cl(x.to(memory_format=torch.channels_last))
    torch.testing.assert_close(hand_cl[3], hand[3], rtol=1e-4, atol=1e-5)


def test_bad_arguments():
    with pytest.raises(KeyError, match='depth'):
        HFLResNet(depth=42)
    with pytest.raises(ValueError, match='out_type'):
        HFLResNet(depth=18, out_type='list')
    with pytest.raises(ValueError, match='base_channels'):
        HFLResNet(depth=18, base_channels=0)
    narrow = HFLResNet(depth=18, base_channels=32,
                       init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    with pytest.raises(ValueError, match='base_channels=64'):
        narrow.init_weights()  # refused before anything is fetched


def _torchvision_streams(x, ref):
    """(c2, c3, c4, c5) of a torchvision ResNet written out stage by stage."""
    c = ref.maxpool(ref.relu(ref.bn1(ref.conv1(x))))
    out = []
    for layer in (ref.layer1, ref.layer2, ref.layer3, ref.layer4):
        c = layer(c)
        out.append(c)
    return out


def test_r50_parameter_counts_of_every_split():
    # a torchvision ResNet-50 without its classifier is one stream
    ref = torchvision.models.resnet50()
    one_stream = _params(ref) - _params(ref.fc)
    assert one_stream == 23_508_032
    assert _params(HFLResNet(depth=50, split_stages=())) == one_stream
    assert _params(HFLResNet(depth=50, split_stages=(0, 1, 2, 3, 4))) == 2 * one_stream
    assert _params(HFLResNet(depth=50, split_stages=(2, 3))) == (
        one_stream + _params(ref.layer2) + _params(ref.layer3))


@pytest.mark.parametrize('split', [(), (0, 1, 2, 3, 4), (1, 3)])
def test_split_stages_wiring_matches_two_torchvision_resnets(split):
    """Each stream equals a torchvision ResNet built from that stream's weights."""
    torch.manual_seed(0)
    model = HFLResNet(depth=18, split_stages=split, act_cfg=dict(type='ReLU')).eval()
    model.init_weights()
    with torch.no_grad():
        for tensor in model.state_dict().values():  # every copy its own weights
            if tensor.is_floating_point():
                tensor.add_(0.05 * torch.randn_like(tensor))
    refs = {}
    for stream in ('hand', 'obj'):
        ref = torchvision.models.resnet18().eval()
        state = {}
        for key in ref.state_dict():
            if key.startswith('fc.'):
                continue
            name, rest = key.split('.', 1)
            stage = 0 if name in ('conv1', 'bn1') else int(name[5:])
            state[key] = model.state_dict()[
                f'{name}_{stream}.{rest}' if stage in split else key]
        ref.load_state_dict(state, strict=False)
        refs[stream] = ref
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        hand, obj = model(x)
        for feats, stream in ((hand, 'hand'), (obj, 'obj')):
            for ours, theirs in zip(feats, _torchvision_streams(x, refs[stream])):
                torch.testing.assert_close(ours, theirs)
    first_split = min(split, default=5)
    for level in range(4):  # c2 is the output of stage 1
        assert (hand[level] is obj[level]) == (level + 1 < first_split)
    names = {n.split('.')[0] for n, _ in model.named_parameters()}
    for stage in range(5):
        base = ['conv1', 'bn1'] if stage == 0 else [f'layer{stage}']
        for b in base:
            if stage in split:
                assert {f'{b}_hand', f'{b}_obj'} <= names and b not in names
            else:
                assert b in names and f'{b}_hand' not in names


def test_split_stages_init_copies_and_pretrained(tmp_path):
    torch.manual_seed(0)
    model = HFLResNet(depth=18, split_stages=(0, 1, 2, 3, 4))
    model.init_weights()
    for name in ('conv1', 'bn1', 'layer1', 'layer4'):
        hand, obj = (getattr(model, f'{name}_{s}').state_dict() for s in ('hand', 'obj'))
        assert all(torch.equal(hand[k], obj[k]) for k in hand)
    ref = torchvision.models.resnet18()
    path = tmp_path / 'r18.pth'
    torch.save(ref.state_dict(), path)
    single = HFLResNet(depth=18, split_stages=(),
                       init_cfg=dict(type='Pretrained', checkpoint=str(path)))
    single.init_weights()
    assert torch.equal(single.layer3[1].conv2.weight, ref.layer3[1].conv2.weight)
    with pytest.raises(ValueError, match='split_stages'):
        HFLResNet(depth=18, split_stages=(2, 5))


def test_shared_stage_after_split_runs_both_streams_in_one_call_only_in_eval():
    """Training keeps the reference's per-stream BatchNorm statistics (one call per stream);
    eval runs layer4 once on both streams' images, with the values of separate calls."""
    torch.manual_seed(0)
    model = HFLResNet(depth=18)
    model.init_weights()
    with torch.no_grad():
        model.layer3_obj[0].conv1.weight.mul_(1.5)  # make the streams differ
    batches = []
    model.layer4.register_forward_hook(lambda _m, args, _out: batches.append(args[0].shape[0]))
    x = torch.rand(2, 3, 64, 64)
    model.train()(x)
    assert batches == [2, 2]
    batches.clear()
    with torch.no_grad():
        hand, obj = model.eval()(x)
        assert batches == [4]
        torch.testing.assert_close(hand[3], model.layer4(hand[2]))
        torch.testing.assert_close(obj[3], model.layer4(obj[2]))
    assert not torch.allclose(hand[3], obj[3])
