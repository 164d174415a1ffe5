"""tools/analysis_tools/ho3d_eval.py end to end on tiny files (run in-process)."""
import json
import logging
import sys

import numpy as np
import pytest
from mmengine.logging import MMLogger
from repo_scripts import load_script


class _Records(logging.Handler):

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope='module')
def tool():
    return load_script('tools/analysis_tools/ho3d_eval.py', 'ho3d_eval_tool')


def _run(tool, monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', ['ho3d_eval.py', *map(str, args)])
    records = _Records()
    logger = MMLogger.get_instance('ho3d_eval')
    logger.addHandler(records)
    try:
        tool.main()
    finally:
        logger.removeHandler(records)
    return records.messages


def _write(path, value):
    path.write_text(json.dumps(value))


def test_tool_writes_official_scores(tool, monkeypatch, ref, rng, tmp_path):
    pred_xyz, pred_verts, gt_xyz, gt_verts = ref.random_hands(rng, 3)
    pred_xyz[2, 0, 0] = np.nan  # reported and excluded
    _write(tmp_path / 'evaluation_xyz.json', gt_xyz.tolist())
    _write(tmp_path / 'evaluation_verts.json', gt_verts.tolist())
    _write(tmp_path / 'pred.json', [pred_xyz.tolist(), pred_verts.tolist()])
    out_dir = tmp_path / 'out'
    messages = _run(tool, monkeypatch, tmp_path / 'pred.json', tmp_path, out_dir,
                    '--num-workers', 1)
    assert any('not an official evaluation size' in m for m in messages)
    assert any('sample ids [2]' in m for m in messages)
    expected = ref.ref_ho3d_scores(pred_xyz[:2], pred_verts[:2], gt_xyz[:2], gt_verts[:2])
    lines = (out_dir / 'scores.txt').read_text().splitlines()
    assert len(lines) == 14
    for line in lines:
        key, value = line.split(': ')
        assert value == f'{expected[key]:f}', key

    _write(tmp_path / 'pred.json', [pred_xyz[:2].tolist(), pred_verts[:2].tolist()])
    with pytest.raises(ValueError, match='has 2 frames but .* GT for 3'):
        _run(tool, monkeypatch, tmp_path / 'pred.json', tmp_path, out_dir)


@pytest.mark.parametrize('missing', ['evaluation_xyz.json', 'evaluation_verts.json'])
def test_tool_names_missing_gt_file(tool, monkeypatch, ref, rng, tmp_path, missing):
    _, _, gt_xyz, gt_verts = ref.random_hands(rng, 1)
    for name, value in (('evaluation_xyz.json', gt_xyz), ('evaluation_verts.json', gt_verts)):
        if name != missing:
            _write(tmp_path / name, value.tolist())
    with pytest.raises(FileNotFoundError, match=f'not found: .*{missing}'):
        _run(tool, monkeypatch, tmp_path / 'pred.json', tmp_path, tmp_path)
