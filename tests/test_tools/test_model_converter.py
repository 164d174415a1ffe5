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


def _cbam_tiny_cfg(hfl_model_cfg):
    cfg = hfl_model_cfg(tiny=True)
    cfg['obj_to_hand_fusion']['cbam'] = cfg['hand_to_obj_fusion']['cbam'] = True
    return cfg


def _authors_file(tmp_path, state):
    src = tmp_path / 'checkpoint_ho3d.pth.tar'
    torch.save(dict(epoch=69, network='honet_transformer', state_dict=state), src)
    return src


def test_cbam_config_converts_the_rest_and_lists_cbam_keys(tmp_path, hfl_model_cfg, capsys):
    source = randomised(hfl_model_cfg(tiny=True), 0)  # the authors' network: no CBAM
    src = _authors_file(tmp_path, conv.convert_to_hflnet_state_dict(source.state_dict()))
    config = tmp_path / 'tiny_cbam.py'
    Config(dict(model=_cbam_tiny_cfg(hfl_model_cfg))).dump(str(config))
    dst = tmp_path / 'cbam_converted.pth'
    conv.main([str(src), str(dst), '--config', str(config)])

    torch.manual_seed(5)
    target = MODELS.build(_cbam_tiny_cfg(hfl_model_cfg))
    target.init_weights()
    initial = {k: v.clone() for k, v in target.state_dict().items()}
    cbam_keys = sorted(k for k in initial if '.cbam.' in k)
    # 2 blocks x (2 channel-MLP convs + spatial conv + BN weight, bias, mean, var, count)
    assert len(cbam_keys) == 2 * 8
    printed = capsys.readouterr().out
    listed = sorted(line.strip() for line in printed.splitlines() if line.startswith('  '))
    assert listed == cbam_keys and f'{len(cbam_keys)} key(s)' in printed
    saved = torch.load(dst, map_location='cpu', weights_only=True)['state_dict']
    assert sorted(set(initial) - set(saved)) == cbam_keys
    missing, unexpected = target.load_state_dict(saved, strict=False)
    # (PyTorch does not report a missing BatchNorm num_batches_tracked: it keeps its own)
    assert sorted(missing) == [k for k in cbam_keys if 'num_batches' not in k]
    assert not unexpected
    for key, value in target.state_dict().items():
        expected = initial[key] if key in cbam_keys else source.state_dict()[key]
        assert torch.equal(value, expected), key


def test_cbam_config_still_refuses_unknown_and_missing_non_cbam_keys(tmp_path, hfl_model_cfg):
    config = tmp_path / 'tiny_cbam.py'
    Config(dict(model=_cbam_tiny_cfg(hfl_model_cfg))).dump(str(config))
    authors = conv.convert_to_hflnet_state_dict(
        MODELS.build(hfl_model_cfg(tiny=True)).state_dict())
    dropped = authors.pop('honet.module.obj_head.out_conv.bias')
    with pytest.raises(KeyError, match=r'1 missing key\(s\) \[.obj_head.out_conv.bias.\]'):
        conv.main([str(_authors_file(tmp_path, authors)), str(tmp_path / 'a.pth'),
                   '--config', str(config)])
    authors['honet.module.obj_head.out_conv.bias'] = dropped
    authors['honet.module.cbam_somewhere.weight'] = torch.zeros(1)
    with pytest.raises(KeyError, match=r'1 unknown key\(s\).*cbam_somewhere'):
        conv.main([str(_authors_file(tmp_path, authors)), str(tmp_path / 'b.pth'),
                   '--config', str(config)])
