"""Hostile or broken HO3D pred.json files: each refused naming the file and where."""
import json

import numpy as np
import pytest
from repo_scripts import load_script

from mmhandobj.evaluation.functional import load_ho3d_pred


def _frames(num=2, value=0.01):
    return [[[value] * 3] * 21] * num, [[[value] * 3] * 778] * num


def _write(tmp_path, text: str) -> str:
    path = tmp_path / 'pred.json'
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize('text,where', [
    ('1.5', 'got float'),
    ('null', 'top level holds None'),
    (json.dumps({'xyz': 1}), r'holds 1|expected only numbers'),
    ('[' * 100000 + ']' * 100000, 'nested too deeply'),
])
def test_top_level_and_nesting(tmp_path, text, where):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=rf'{path}.*({where})'):
        load_ho3d_pred(path)


@pytest.mark.parametrize('leaf,expected', [
    ('1.5', "'1.5'"), (True, 'True'), (None, 'None'), ({'a': 1}, "{'a': 1.0}")])
def test_non_numbers_inside_arrays_are_named_with_their_place(tmp_path, leaf, expected):
    xyz, verts = (np.array(a).tolist() for a in _frames())
    xyz[1][0][2] = leaf
    path = _write(tmp_path, json.dumps([xyz, verts]))
    with pytest.raises(ValueError, match=rf'{path}: top level\[0\]\[1\]\[0\]\[2\] holds '
                       rf'{expected}'):
        load_ho3d_pred(path)


def test_huge_values_and_integers_are_refused_naming_the_frame(tmp_path):
    xyz, verts = _frames()
    xyz = np.array(xyz)
    xyz[1, 3, 0] = 1e308
    path = _write(tmp_path, json.dumps([xyz.tolist(), verts]))
    with pytest.raises(ValueError, match=rf'{path}: xyz_list frame 1 has a coordinate of '
                       r'1e\+308 m'):
        load_ho3d_pred(path)
    path = _write(tmp_path, json.dumps([xyz.tolist(), verts]).replace('1e+308', '9' * 5000))
    with pytest.raises(ValueError, match=rf'{path}.*integer of 5000 digits'):
        load_ho3d_pred(path)


def test_nan_frames_still_load_for_the_nan_policy(tmp_path):
    xyz, verts = _frames()
    xyz = np.array(xyz)
    xyz[0, 0, 0] = np.nan
    loaded, _ = load_ho3d_pred(_write(tmp_path, json.dumps([xyz.tolist(), verts])))
    assert np.isnan(loaded[0, 0, 0]) and np.isfinite(loaded[1]).all()


def test_full_disk_while_writing_pred_json_names_the_file_and_leaves_none(tmp_path,
                                                                          monkeypatch):
    import errno
    import os

    from mmhandobj.evaluation.metrics import HO3DMetric
    from mmhandobj.utils import checkpoint

    def no_space(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(checkpoint.os, 'fsync', no_space)
    metric = HO3DMetric(out_dir=str(tmp_path))
    xyz, verts = (np.array(a) for a in _frames())
    path = tmp_path / 'pred.json'
    with pytest.raises(OSError, match=rf'cannot write {path}: no space left on device'):
        metric._write_submission(xyz, verts)
    assert sorted(os.listdir(tmp_path)) == []


def test_ho3d_eval_refuses_an_out_dir_whose_scores_file_is_an_input(tmp_path, monkeypatch):
    import sys
    module = load_script('tools/analysis_tools/ho3d_eval.py')
    pred = tmp_path / 'scores.txt'  # a prediction file unluckily named like the output
    xyz, verts = _frames()
    pred.write_text(json.dumps([xyz, verts]))
    monkeypatch.setattr(sys, 'argv', ['ho3d_eval.py', str(pred), str(tmp_path), str(tmp_path)])
    with pytest.raises(ValueError, match=rf'refusing to write {pred}: it is the input {pred}'):
        module.main()
    assert json.loads(pred.read_text()) == [xyz, verts]
