from pathlib import Path

import pytest
import torch
from _converter_fixtures import load_converter, randomised, read_key_shapes
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmhandobj.registry import MODELS

ROOT = Path(__file__).parents[2]
AUTHORS_KEYS_FILE = ROOT / 'tests' / 'data' / 'hflnet_state_dict.txt'

conv = load_converter('hflnet_to_mmhandobj')


def test_r50_authors_layout_has_exactly_the_reference_keys_and_shapes(hfl_model_cfg):
    model = MODELS.build(hfl_model_cfg(tiny=False))
    ours = conv.convert_to_hflnet_state_dict(model.state_dict(), prefix='')
    reference = {k: v for k, v in read_key_shapes(AUTHORS_KEYS_FILE).items()
                 if not k.startswith('mano_branch.mano_layer.')}
    assert {k: tuple(v.shape) for k, v in ours.items()} == reference


def test_round_trip_through_authors_checkpoint(tmp_path, hfl_model_cfg):
    source = randomised(hfl_model_cfg(tiny=True), 0)
    authors = conv.convert_to_hflnet_state_dict(source.state_dict())
    # MANO data the authors' file carries
    for key, shape in read_key_shapes(AUTHORS_KEYS_FILE).items():
        if key.startswith('mano_branch.mano_layer.'):
            authors['honet.module.' + key] = torch.zeros(shape)
    src = tmp_path / 'checkpoint_ho3d.pth.tar'
    dst = tmp_path / 'hfl_converted.pth'
    torch.save(dict(epoch=69, network='honet_transformer', state_dict=authors), src)
    config = tmp_path / 'tiny.py'
    Config(dict(model=hfl_model_cfg(tiny=True))).dump(str(config))
    conv.main([str(src), str(dst), '--config', str(config)])

    target = randomised(hfl_model_cfg(tiny=True), 1)
    load_checkpoint(target, str(dst), map_location='cpu', strict=True)
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['epoch'] == 69
    target.load_state_dict(saved['state_dict'], strict=True)
    images = torch.rand(2, 3, 64, 64)
    hand = torch.tensor([[4., 6., 40., 44.], [20., 10., 60., 50.]])
    obj = torch.tensor([[20., 24., 60., 62.], [2., 30., 30., 60.]])
    with torch.no_grad():
        expected = source.forward_raw(images, hand, obj)
        actual = target.forward_raw(images, hand, obj)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def test_unknown_and_missing_keys_are_listed():
    state = {'honet.module.obj_head.out_conv.weight': torch.zeros(1),
             'honet.module.some_new_branch.weight': torch.zeros(1)}
    with pytest.raises(KeyError, match='some_new_branch'):
        conv.convert_hflnet_state_dict(state)
    with pytest.raises(KeyError, match=r'1 missing key\(s\).*neck.hand_fpn.top_conv.weight'):
        conv.convert_hflnet_state_dict(
            {'honet.module.obj_head.out_conv.weight': torch.zeros(1)},
            expected_keys=['obj_head.out_conv.weight', 'neck.hand_fpn.top_conv.weight'])
    converted = conv.convert_hflnet_state_dict(
        {'honet.module.base_net.layer0_h.1.running_var': torch.ones(1),
         'honet.module.mano_branch.coord_change_mat': torch.eye(3),
         'honet.module.mano_branch.mano_layer.th_v_template': torch.zeros(1)})
    assert list(converted) == ['backbone.bn1.running_var']


def test_default_config_reports_missing_keys(tmp_path):
    src = tmp_path / 'partial.pth.tar'
    torch.save(dict(epoch=1, network='honet_transformer',
                    state_dict={'honet.module.obj_head.out_conv.bias': torch.zeros(63)}), src)
    with pytest.raises(KeyError, match='missing key.*backbone.layer4.2.conv3.weight'):
        conv.main([str(src), str(tmp_path / 'out.pth')])


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        conv.parse_args(['--help'])
    assert exc.value.code == 0 and 'honet.module.' in capsys.readouterr().out
