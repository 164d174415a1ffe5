"""Chumpy-free MANO loader: official pickle layout, conversions, and refusals."""
import os
import pickle
import pickletools

import numpy as np
import pytest

from mmhandobj.models.mano import MANOFileError, load_mano_model
from mmhandobj.models.mano.mano_writer import ClassRef, OfficialLayoutPickler, PickledObject
from mmhandobj.synthetic import make_standin_mano, standin_mano_arrays

ARRAY_KEYS = ('v_template', 'shapedirs', 'posedirs', 'J_regressor', 'weights', 'f',
              'kintree_table', 'hands_components', 'hands_mean', 'hands_coeffs', 'J')


@pytest.fixture(scope='module')
def right_pkl(tmp_path_factory):
    path = str(tmp_path_factory.mktemp('mano') / 'MANO_RIGHT.pkl')
    make_standin_mano(path, side='right', seed=0)
    return path


def pickle_globals(path):
    with open(path, 'rb') as f:
        return {arg for op, arg, _ in pickletools.genops(f.read()) if op.name == 'GLOBAL'}


def assert_same_model(loaded, expected):
    for key in ARRAY_KEYS:
        np.testing.assert_array_equal(loaded[key], expected[key], err_msg=key)
    assert loaded['f'].dtype == np.int64 and loaded['v_template'].dtype == np.float64


def test_standin_pickle_has_official_layout_and_loads(right_pkl):
    globals_ = pickle_globals(right_pkl)
    assert {'chumpy.ch Ch', 'scipy.sparse.csc csc_matrix', 'copy_reg _reconstructor',
            '__builtin__ object', '_codecs encode'} <= globals_
    with open(right_pkl, 'rb') as f:
        assert f.read(2) == b'\x80\x02'  # protocol 2
    loaded = load_mano_model(right_pkl)
    assert_same_model(loaded, standin_mano_arrays('right', 0))
    assert loaded['bs_style'] == 'lbs' and loaded['bs_type'] == 'lrotmin'


def test_plain_npz_and_numpy_pickle_conversions_load_identically(right_pkl, tmp_path):
    reference = load_mano_model(right_pkl)
    npz = str(tmp_path / 'MANO_RIGHT.npz')
    np.savez(npz, **reference)
    assert_same_model(load_mano_model(npz), reference)
    plain = str(tmp_path / 'plain.pkl')
    with open(plain, 'wb') as f:
        pickle.dump({k: v for k, v in reference.items()}, f, protocol=2)
    assert_same_model(load_mano_model(plain), reference)


def write_official_like(path, content):
    with open(path, 'wb') as f:
        OfficialLayoutPickler(f, protocol=2).dump(content)


def test_chumpy_select_and_csr_are_evaluated(tmp_path):
    arrays = standin_mano_arrays('right', 0)
    content = dict(arrays)
    source = PickledObject(ClassRef('chumpy.ch', 'Ch'), {'x': arrays['hands_mean'][::-1]})
    content['hands_mean'] = PickledObject(
        ClassRef('chumpy.reordering', 'Select'),
        {'a': source, 'idxs': np.arange(44, -1, -1), 'preferred_shape': (45,)})
    dense = arrays['J_regressor']
    rows, cols = np.nonzero(dense)
    indptr = np.searchsorted(rows, np.arange(17))
    content['J_regressor'] = PickledObject(
        ClassRef('scipy.sparse._csr', 'csr_matrix'),
        {'_shape': dense.shape, 'data': dense[rows, cols], 'indices': cols, 'indptr': indptr})
    path = str(tmp_path / 'select.pkl')
    write_official_like(path, content)
    loaded = load_mano_model(path)
    np.testing.assert_array_equal(loaded['hands_mean'], arrays['hands_mean'])
    np.testing.assert_array_equal(loaded['J_regressor'], dense)


def test_chumpy_expression_without_value_is_an_error(tmp_path):
    content = dict(standin_mano_arrays('right', 0))
    content['posedirs'] = PickledObject(ClassRef('chumpy.ch_ops', 'add'), {'a': 1, 'b': 2})
    path = str(tmp_path / 'expr.pkl')
    write_official_like(path, content)
    with pytest.raises(MANOFileError, match=r"expr\.pkl: key 'posedirs': a chumpy expression"):
        load_mano_model(path)


class _Exploit:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f'touch {self.marker}',)


def test_refuses_other_globals(tmp_path):
    marker = tmp_path / 'executed'
    path = str(tmp_path / 'evil.pkl')
    with open(path, 'wb') as f:
        pickle.dump({'v_template': _Exploit(marker)}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=r'evil\.pkl: refusing to load global '
                       r'(os|posix)\.system'):
        load_mano_model(path)
    assert not marker.exists()


def test_missing_truncated_and_wrong_files(right_pkl, tmp_path):
    with pytest.raises(MANOFileError, match=r'nowhere/MANO_RIGHT\.pkl: not found'):
        load_mano_model(str(tmp_path / 'nowhere' / 'MANO_RIGHT.pkl'))
    truncated = str(tmp_path / 'MANO_TRUNC.pkl')
    with open(right_pkl, 'rb') as src, open(truncated, 'wb') as dst:
        dst.write(src.read()[:100000])
    with pytest.raises(MANOFileError, match=r'MANO_TRUNC\.pkl: corrupt or truncated'):
        load_mano_model(truncated)
    garbage = str(tmp_path / 'garbage.npz')
    with open(garbage, 'wb') as f:
        f.write(b'not a zip file at all')
    with pytest.raises(MANOFileError, match=r'garbage\.npz: cannot be read'):
        load_mano_model(garbage)
    not_dict = str(tmp_path / 'list.pkl')
    with open(not_dict, 'wb') as f:
        pickle.dump([1, 2], f, protocol=2)
    with pytest.raises(MANOFileError, match=r'list\.pkl: expected a pickled dict, got list'):
        load_mano_model(not_dict)


def test_wrong_shape_and_missing_key_name_the_key(tmp_path):
    arrays = {k: v for k, v in standin_mano_arrays('right', 0).items() if k in ARRAY_KEYS}
    bad_shape = dict(arrays, posedirs=arrays['posedirs'][:, :, :10])
    path = str(tmp_path / 'bad_shape.npz')
    np.savez(path, **bad_shape)
    with pytest.raises(MANOFileError, match=r"bad_shape\.npz: key 'posedirs' has shape "
                       r'\(778, 3, 10\), expected \(778, 3, 135\)'):
        load_mano_model(path)
    missing = {k: v for k, v in arrays.items() if k != 'weights'}
    path = str(tmp_path / 'missing.npz')
    np.savez(path, **missing)
    with pytest.raises(MANOFileError, match=r"missing\.npz: missing key 'weights' \(expected "
                       r'an array of shape \(778, 16\)\)'):
        load_mano_model(path)
    bad_faces = dict(arrays, f=arrays['f'] + 778)
    path = str(tmp_path / 'bad_faces.npz')
    np.savez(path, **bad_faces)
    with pytest.raises(MANOFileError, match=r"bad_faces\.npz: key 'f' holds vertex ids"):
        load_mano_model(path)
