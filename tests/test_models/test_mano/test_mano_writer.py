"""The MANO-format writer: any arrays round-trip through the official layout."""
import pickletools

import numpy as np
import scipy.sparse

from mmhandobj.models.mano import MANO_SHAPES, load_mano_model, write_mano_file
from mmhandobj.models.mano.mano_writer import KINTREE_ROOT, csc_state


def random_model(rng):
    model = {key: rng.normal(size=shape) for key, shape in MANO_SHAPES.items()}
    regressor = rng.random((16, 778))
    regressor[regressor < 0.9] = 0.0  # sparse, as in MANO
    model['J_regressor'] = regressor
    model['f'] = rng.integers(0, 778, size=MANO_SHAPES['f'])
    model['kintree_table'] = np.array([[KINTREE_ROOT] + list(range(15)), list(range(16))])
    weights = rng.random(MANO_SHAPES['weights'])  # skinning weights: rows sum to 1
    model['weights'] = weights / weights.sum(axis=1, keepdims=True)
    return model


def test_random_arrays_round_trip_through_the_loader(tmp_path):
    model = random_model(np.random.default_rng(0))
    path = str(tmp_path / 'MANO_RIGHT.pkl')
    write_mano_file(path, model)
    with open(path, 'rb') as f:
        data = f.read()
    assert data[:2] == b'\x80\x02'
    globals_ = {arg for op, arg, _ in pickletools.genops(data) if op.name == 'GLOBAL'}
    assert {'chumpy.ch Ch', 'scipy.sparse.csc csc_matrix'} <= globals_
    loaded = load_mano_model(path)
    for key in MANO_SHAPES:
        np.testing.assert_array_equal(loaded[key], model[key], err_msg=key)


def test_csc_state_matches_scipy():
    dense = np.random.default_rng(1).random((16, 50))
    dense[dense < 0.7] = 0.0
    state = csc_state(dense)
    reference = scipy.sparse.csc_matrix(dense)
    assert state['_shape'] == reference.shape
    np.testing.assert_array_equal(state['data'], reference.data)
    np.testing.assert_array_equal(state['indices'], reference.indices)
    np.testing.assert_array_equal(state['indptr'], reference.indptr)
