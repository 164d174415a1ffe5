"""tools/analysis_tools/compare_with_reference.py: arguments, the checkout check, the ratios.

No heavy timing: the authors' side runs once on a fake checkout with the same entry points
(``model.HONet``, ``model.HOModel``, manopth's ``ManoLayer`` reading ``ready_arguments``).
"""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from repo_scripts import load_script

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
TOOL = osp.join(ROOT, 'tools', 'analysis_tools', 'compare_with_reference.py')


def _load_tool():
    return load_script('tools/analysis_tools/compare_with_reference.py')


tool = _load_tool()

FAKE_MODEL = '''
import torch


class HONet(torch.nn.Module):
    def __init__(self, mano_layer, roi_res, pretrained, transformer_depth, transformer_head):
        super().__init__()
        assert not pretrained and transformer_depth == 1 and transformer_head == 4
        self.mano_layer = mano_layer
        self.conv = torch.nn.Conv2d(3, 1, 1)

    def forward(self, imgs, bbox_hand, bbox_obj, mano_params=None):
        assert bbox_hand.shape == bbox_obj.shape == (imgs.shape[0], 4)
        return self.conv(imgs).mean()


class HOModel(torch.nn.Module):
    def __init__(self, honet, **weights):
        super().__init__()
        assert weights['lambda_objects'] == 500
        self.honet = honet

    def forward(self, imgs, bbox_hand, bbox_obj, mano_params=None, joints_uv=None,
                obj_p2d_gt=None, obj_mask=None):
        assert mano_params.shape == (imgs.shape[0], 58) and obj_mask.shape[1:] == (32, 32)
        return self.honet(imgs, bbox_hand, bbox_obj, mano_params), {}
'''

FAKE_MANOLAYER = '''
import torch


def ready_arguments(path):
    raise ImportError('the real one needs chumpy')


class ManoLayer(torch.nn.Module):
    def __init__(self, ncomps, use_pca, flat_hand_mean, side, center_idx, mano_root='mano'):
        super().__init__()
        data = ready_arguments(mano_root)
        self.register_buffer('v_template', torch.tensor(data['v_template'].r).float())
        self.register_buffer('regressor', torch.tensor(data['J_regressor'].toarray()).float())

    def forward(self, pose, betas):
        verts = self.v_template * (1 + pose[:, :1, None]) + betas[:, :1, None]
        return verts, self.regressor @ verts
'''


def make_checkout(root, model_text=FAKE_MODEL):
    """A folder with the files the tool imports from the authors' checkout."""
    for name in tool.REFERENCE_FILES:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text('')
    (root / 'model.py').write_text(model_text)
    (root / 'manopth' / 'manopth' / 'manolayer.py').write_text(FAKE_MANOLAYER)
    return root


def test_reference_code_is_required(capsys):
    with pytest.raises(SystemExit) as err:
        tool.parse_args([])
    assert err.value.code == 2
    assert '--reference-code' in capsys.readouterr().err


@pytest.mark.parametrize('flag', ['--rounds', '--iters', '--batch'])
def test_counts_below_one_are_refused(flag, capsys):
    with pytest.raises(SystemExit):
        tool.parse_args(['--reference-code', '.', flag, '0'])
    assert f'{flag} must be at least 1' in capsys.readouterr().err


def test_missing_folder_names_it_and_how_to_get_it(tmp_path):
    with pytest.raises(SystemExit, match=r'no_such: no such folder; .*git clone '
                       r'https://github.com/lzfff12/HFL-Net'):
        tool.check_reference_code(str(tmp_path / 'no_such'))


def test_other_folder_names_the_missing_files(tmp_path):
    (tmp_path / 'model.py').write_text('class HONet: pass\nclass HOModel: pass\n')
    with pytest.raises(SystemExit) as err:
        tool.main(['--reference-code', str(tmp_path)])  # refused before anything is timed
    message = str(err.value.code)
    assert 'is not a checkout' in message and 'model.py' not in message.split('missing')[1]
    for name in tool.REFERENCE_FILES[1:]:
        assert name in message


def test_model_without_the_networks_is_refused(tmp_path):
    make_checkout(tmp_path, model_text='class HONet: pass\n')
    with pytest.raises(SystemExit, match='model.py does not define HOModel'):
        tool.check_reference_code(str(tmp_path))
    make_checkout(tmp_path)
    assert tool.check_reference_code(str(tmp_path)) == str(tmp_path)


def test_ratios_and_their_summary():
    ours = dict(train_img_s=0.75, infer_b8_img_s=2.8, mano_fwd_bwd_ms=8.0, export_s_b8=30.0)
    theirs = dict(train_img_s=0.6, infer_b8_img_s=2.2, mano_fwd_bwd_ms=16.4)
    got = tool.ratios(ours, theirs)
    assert got == pytest.approx(dict(train_img_s=1.25, infer_b8_img_s=2.8 / 2.2,
                                     mano_fwd_bwd_ms=2.05))
    summary = tool.summarise([dict(train=1.3), dict(train=1.1), dict(train=1.2)])
    assert summary == dict(train=dict(median=1.2, low=1.1, high=1.3))


def test_mano_data_is_what_manopth_reads():
    rng = np.random.default_rng(0)
    arrays = dict(v_template=rng.random((778, 3)), shapedirs=rng.random((778, 3, 10)),
                  posedirs=rng.random((778, 3, 135)), weights=rng.random((778, 16)),
                  J_regressor=rng.random((16, 778)) * (rng.random((16, 778)) > 0.9),
                  f=np.arange(1538 * 3).reshape(1538, 3), kintree_table=np.zeros((2, 16)),
                  hands_components=np.eye(45), hands_mean=rng.random(45))
    data = tool.reference_mano_data(arrays)
    for key in ('v_template', 'shapedirs', 'posedirs', 'weights'):
        np.testing.assert_array_equal(data[key].r, arrays[key])
    np.testing.assert_array_equal(data['betas'].r, np.zeros(10))
    np.testing.assert_array_equal(data['J_regressor'].toarray(), arrays['J_regressor'])
    np.testing.assert_array_equal(data['hands_mean'], arrays['hands_mean'])


def test_reference_side_runs_the_checkouts_network_and_layer(tmp_path):
    """One tiny pass of the authors' side in its own process, as the comparison runs it."""
    checkout = make_checkout(tmp_path / 'hfl')
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get('PYTHONPATH', ''))
    done = subprocess.run(
        [sys.executable, TOOL, '--side', 'reference', '--reference-code', str(checkout),
         '--batch', '1', '--infer-batches', '1', '--mano-batch', '2', '--warmup', '0',
         '--iters', '1', '--threads', '1'],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    line = [x for x in done.stdout.splitlines() if x.startswith(tool.RESULT_PREFIX)]
    figures = json.loads(line[-1][len(tool.RESULT_PREFIX):])
    assert set(figures) == {'train_img_s', 'infer_b1_img_s', 'mano_fwd_bwd_ms', 'gflop_img',
                            'conv_gflop_s'}
    assert all(value > 0 for value in figures.values())
    # the fake network's one product: a 1x1 conv, 3 -> 1 channels, on a 256x256 image
    assert figures['gflop_img'] == pytest.approx(2 * 3 * 1 * 256 * 256 / 1e9)
