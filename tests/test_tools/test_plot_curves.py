"""tools/analysis_tools/plot_curves.py on a scalars.json written by MMEngine's LocalVisBackend."""

import pytest
from mmengine.visualization import LocalVisBackend
from repo_scripts import load_script


def _load_tool():
    return load_script('tools/analysis_tools/plot_curves.py')


tool = _load_tool()


@pytest.fixture
def work_dir(tmp_path):
    backend = LocalVisBackend(save_dir=str(tmp_path / '20260101_000000' / 'vis_data'))
    for it in (10, 20, 30):
        backend.add_scalars({'loss': 3.0 / it, 'loss_joints2d': 1.0 / it, 'lr': 1e-3,
                             'epoch': 1, 'iter': it}, step=it)
    for epoch in (1, 2):
        backend.add_scalars({'ho3d/joints2d_EPE_px': 10.0 - epoch}, step=epoch)
    return tmp_path


def test_reads_train_and_val_series(work_dir):
    train, val = tool.read_scalars(tool.find_scalars(str(work_dir)))
    assert train['loss_joints2d'] == [(10.0, 0.1), (20.0, 0.05), (30.0, pytest.approx(1 / 30))]
    assert val == {'ho3d/joints2d_EPE_px': [(1.0, 9.0), (2.0, 8.0)]}


def test_writes_the_png_and_prints_last_values(work_dir, capsys):
    out = work_dir / 'curves.png'
    tool.main([str(work_dir), '--val-keys', 'ho3d/joints2d_EPE_px', '--out', str(out)])
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    printed = capsys.readouterr().out
    assert 'ho3d/joints2d_EPE_px' in printed and '8.0000' in printed


def test_title_is_the_run_name_not_a_path(work_dir, monkeypatch):
    titles = []
    monkeypatch.setattr(tool, 'plot_curves', lambda *args, title=None: titles.append(title))
    tool.main([str(work_dir), '--out', str(work_dir / 'c.png')])
    vis_data = work_dir / '20260101_000000' / 'vis_data'
    tool.main([str(vis_data), '--out', str(work_dir / 'c.png')])
    assert titles == [work_dir.name, work_dir.name] and '/' not in work_dir.name
    assert tool.run_name(str(work_dir / 'logs' / 'scalars.json')) == 'logs'


def test_unknown_key_and_missing_log_name_what_exists(work_dir, tmp_path_factory):
    with pytest.raises(KeyError, match='joints2d_EPE_px'):
        tool.main([str(work_dir), '--val-keys', 'ho3d/nope'])
    with pytest.raises(FileNotFoundError, match='scalars.json'):
        tool.find_scalars(str(tmp_path_factory.mktemp('empty')))
