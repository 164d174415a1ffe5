"""tools/analysis_tools/aggregate_runs.py on hand-written scalars.json files."""
import json
import math

import pytest
from repo_scripts import load_script


def _load_tool():
    return load_script('tools/analysis_tools/aggregate_runs.py')


tool = _load_tool()

# Per run: validation at epochs 0 (before training), 1 and 2 of two keys.
EPE = {0: [10.0, 10.0, 10.0], 1: [6.0, 7.0, 8.0], 2: [2.0, 4.0, 9.0]}
ADD = {0: [0.0, 0.0, 0.0], 1: [0.1, 0.2, 0.3], 2: [0.5, 0.25, 0.75]}


def _write_run(directory, run, timestamp='20260101_000000'):
    vis = directory / timestamp / 'vis_data'
    vis.mkdir(parents=True)
    lines = [{'loss': 1.0, 'lr': 1e-3, 'epoch': 1, 'iter': 10, 'step': 10}]
    for epoch in (0, 1, 2):
        lines.append({'ho3d/joints2d_EPE_px': EPE[epoch][run], 'obj/ADD-0.1D': ADD[epoch][run],
                      'data_time': 0.5, 'time': 9.0, 'step': epoch})
    (vis / 'scalars.json').write_text(''.join(json.dumps(x) + '\n' for x in lines))


@pytest.fixture
def work_dirs(tmp_path):
    dirs = []
    for run in range(3):
        d = tmp_path / f'seed{run}'
        _write_run(d, run)
        dirs.append(str(d))
    # an older timestamp with other numbers must be ignored (the newest run is read)
    older = tmp_path / 'seed0' / '20250101_000000' / 'vis_data'
    older.mkdir(parents=True)
    (older / 'scalars.json').write_text(json.dumps({'ho3d/joints2d_EPE_px': 99.0,
                                                    'step': 2}) + '\n')
    return dirs


def test_last_epoch_stats_equal_hand_computed(work_dirs, tmp_path, capsys):
    out = str(tmp_path / 'agg')
    stats = tool.main(work_dirs + ['--out', out])
    # EPE at epoch 2: 2, 4, 9 -> mean 5, sample var ((-3)^2 + (-1)^2 + 4^2) / 2 = 13
    epe = stats['ho3d/joints2d_EPE_px']
    assert epe['n'] == 3 and epe['mean'] == pytest.approx(5.0)
    assert epe['std'] == pytest.approx(math.sqrt(13.0))
    assert (epe['min'], epe['max']) == (2.0, 9.0)
    # ADD at epoch 2: 0.5, 0.25, 0.75 -> mean 0.5, var (0 + 0.0625 + 0.0625) / 2 = 0.0625
    add = stats['obj/ADD-0.1D']
    assert add['mean'] == pytest.approx(0.5) and add['std'] == pytest.approx(0.25)
    # no training keys, no timing of the validation loop
    assert set(stats) == {'ho3d/joints2d_EPE_px', 'obj/ADD-0.1D'}
    written = json.loads(open(out + '.json').read())
    assert written['std_ddof'] == 1
    assert written['metrics']['ho3d/joints2d_EPE_px']['std'] == pytest.approx(math.sqrt(13.0))
    table = open(out + '.md').read()
    assert '| ho3d/joints2d_EPE_px | 3 | 5.0000 | 3.6056 | 2.0000 | 9.0000 |' in table
    assert table in capsys.readouterr().out


def test_chosen_epoch(work_dirs, tmp_path):
    stats = tool.main(work_dirs + ['--epoch', '1', '--out', str(tmp_path / 'agg')])
    assert stats['ho3d/joints2d_EPE_px']['mean'] == pytest.approx(7.0)
    assert stats['ho3d/joints2d_EPE_px']['std'] == pytest.approx(1.0)
    assert stats['obj/ADD-0.1D']['mean'] == pytest.approx(0.2)
    assert stats['obj/ADD-0.1D']['std'] == pytest.approx(0.1)


def test_keys_filter(work_dirs, tmp_path):
    stats = tool.main(work_dirs + ['--keys', 'obj/ADD-0.1D', '--out', str(tmp_path / 'k')])
    assert list(stats) == ['obj/ADD-0.1D']
    with pytest.raises(KeyError, match=r"\['obj/nope'\].*obj/ADD-0.1D"):
        tool.main(work_dirs + ['--keys', 'obj/nope', '--out', str(tmp_path / 'k')])


def test_single_run_has_no_std_and_bad_epoch_names_the_file(work_dirs, tmp_path):
    stats = tool.main(work_dirs[:1] + ['--out', str(tmp_path / 'one')])
    assert math.isnan(stats['obj/ADD-0.1D']['std'])
    assert json.loads(open(tmp_path / 'one.json').read())['metrics']['obj/ADD-0.1D']['std'] \
        is None
    with pytest.raises(ValueError, match=r'scalars.json: no validation at epoch 5'):
        tool.main(work_dirs[:1] + ['--epoch', '5', '--out', str(tmp_path / 'x')])
