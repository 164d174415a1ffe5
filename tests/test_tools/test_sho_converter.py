from pathlib import Path

import pytest
import torch
from _converter_fixtures import load_converter, randomised, read_key_shapes
from mmengine.config import Config
from mmengine.runner import load_checkpoint

from mmhandobj.registry import MODELS
from mmhandobj.utils import with_standin_mano

ROOT = Path(__file__).parents[2]
SHO_KEYS_FILE = ROOT / 'tests' / 'data' / 'sho_state_dict.txt'
SHO_MODEL_CONFIG = ROOT / 'configs' / '_base_' / 'models' / 'sho_r50.py'
#: Keys of SHO's listing that are buffers (everything else is a trainable parameter).
BUFFER_MARKERS = ('running_mean', 'running_var', 'num_batches_tracked', 'hand_head.uu',
                  'hand_head.vv', 'coord_change_mat', 'mano_layer.')

conv = load_converter('sho_to_mmhandobj')


def _sho_cfg(tiny: bool) -> dict:
    cfg = with_standin_mano(Config.fromfile(str(SHO_MODEL_CONFIG)).model)
    cfg.pop('data_preprocessor')
    if tiny:
        cfg['backbone']['depth'] = 18
        cfg['neck'].update(in_channels=[64, 128, 256, 512], out_channels=32)
        cfg['contextual_reasoning']['in_channels'] = 32
        cfg['hand_head'].update(in_channels=32, mano_hidden=[64, 32])
        cfg['obj_head']['in_channels'] = 32
    return cfg


def _trainable(model):
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def test_parameter_counts_from_the_sho_listing():
    shapes = read_key_shapes(SHO_KEYS_FILE)
    numel = {k: int(torch.Size(s).numel()) for k, s in shapes.items()
             if not any(m in k for m in BUFFER_MARKERS)}
    assert sum(numel.values()) == conv.SHO_PARAMS == 34_480_019
    unread = sum(v for k, v in numel.items() if k.startswith(('base_net.smooth1.',
                                                               'base_net.smooth2.')))
    assert unread == 2 * 590_080
    assert conv.OUR_PARAMS == conv.SHO_PARAMS - unread
    assert _trainable(MODELS.build(_sho_cfg(tiny=False))) == conv.OUR_PARAMS


def test_r50_sho_layout_has_exactly_the_listed_keys_and_shapes():
    model = MODELS.build(_sho_cfg(tiny=False))
    ours = conv.SHO_KEY_MAP.to_foreign(model.state_dict(), prefix='')
    listed = {k: v for k, v in read_key_shapes(SHO_KEYS_FILE).items()
              if not k.startswith(('mano_branch.mano_layer.', 'base_net.smooth1.',
                                   'base_net.smooth2.'))}
    assert {k: tuple(v.shape) for k, v in ours.items()} == listed


def test_round_trip_through_a_sho_checkpoint(tmp_path):
    source = randomised(_sho_cfg(tiny=True), 0)
    sho = conv.SHO_KEY_MAP.to_foreign(source.state_dict())
    # what SHO's file carries and we do not read
    for key, shape in read_key_shapes(SHO_KEYS_FILE).items():
        if key.startswith(('mano_branch.mano_layer.', 'base_net.smooth1.',
                           'base_net.smooth2.')):
            sho['honet.module.' + key] = torch.ones(shape)
    src = tmp_path / 'checkpoint_60.pth.tar'
    dst = tmp_path / 'sho_converted.pth'
    torch.save(dict(epoch=60, network='honet_transformer', state_dict=sho), src)
    config = tmp_path / 'tiny_sho.py'
    Config(dict(model=_sho_cfg(tiny=True))).dump(str(config))
    conv.main([str(src), str(dst), '--config', str(config)])

    target = randomised(_sho_cfg(tiny=True), 1)
    load_checkpoint(target, str(dst), map_location='cpu', strict=True)
    saved = torch.load(dst, map_location='cpu', weights_only=True)
    assert saved['meta']['epoch'] == 60
    assert saved['meta']['converter'].endswith('sho_to_mmhandobj.py')
    images = torch.rand(2, 3, 64, 64)
    hand = torch.tensor([[4., 6., 40., 44.], [20., 10., 60., 50.]])
    obj = torch.tensor([[20., 24., 60., 62.], [2., 52., 30., 63.]])  # 2nd: no overlap
    with torch.no_grad():
        expected = source.forward_raw(images, hand, obj)
        actual = target.forward_raw(images, hand, obj)
    for key, value in expected.items():
        assert torch.equal(actual[key], value), key


def test_unknown_and_missing_keys_are_listed(tmp_path):
    with pytest.raises(KeyError, match='Semi-Hand-Object.*base_net.smooth4.weight'):
        conv.SHO_KEY_MAP.to_ours({'honet.module.base_net.smooth4.weight': torch.zeros(1)})
    src = tmp_path / 'partial.pth.tar'
    torch.save(dict(epoch=1, state_dict={
        'honet.module.transformer.layers.0.norm2.weight': torch.ones(256),
        'honet.module.base_net.smooth2.bias': torch.zeros(256)}), src)
    with pytest.raises(KeyError, match=r'missing key\(s\).*backbone.layer4.2.conv3.weight'):
        conv.main([str(src), str(tmp_path / 'out.pth')])
    converted = conv.SHO_KEY_MAP.to_ours(
        {'honet.module.base_net.layer0.1.running_var': torch.ones(1),
         'honet.module.base_net.latlayer3.bias': torch.ones(1),
         'honet.module.mano_branch.coord_change_mat': torch.eye(3)})
    assert list(converted) == ['backbone.bn1.running_var', 'neck.fpn.lateral_convs.2.bias']


def test_help_exits_cleanly(capsys):
    with pytest.raises(SystemExit) as exc:
        conv.parse_args(['--help'])
    assert exc.value.code == 0 and 'honet.module.' in capsys.readouterr().out
