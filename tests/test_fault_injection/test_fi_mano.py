"""MANO files with broken skinning weights, and contradictory MANO sources."""
import numpy as np
import pytest

from mmhandobj.models.mano import ManoLayer
from mmhandobj.models.mano.mano_loader import MANOFileError, load_mano_model
from mmhandobj.synthetic.hands import write_mano_files


def test_weights_whose_rows_do_not_sum_to_one_are_refused(tmp_path):
    write_mano_files(str(tmp_path))
    model = load_mano_model(str(tmp_path / 'MANO_RIGHT.pkl'))
    np.testing.assert_allclose(model['weights'].sum(axis=1), 1.0, atol=1e-6)
    arrays = {k: v for k, v in model.items() if isinstance(v, np.ndarray)}
    arrays['weights'] = arrays['weights'].copy()
    arrays['weights'][17] *= 2.0
    path = tmp_path / 'broken.npz'
    np.savez(path, **arrays)
    with pytest.raises(MANOFileError, match=rf"{path}: key 'weights'.*1 rows sum elsewhere "
                       r'\(first: vertex \[17\], sums \[2.0\]\)'):
        load_mano_model(str(path))


def test_standin_seed_with_a_mano_file_is_refused(tmp_path):
    with pytest.raises(ValueError, match=r"standin_seed \(0\) or a MANO file \(mano_root "
                       r"'elsewhere'"):
        ManoLayer(mano_root='elsewhere', standin_seed=0)
    with pytest.raises(ValueError, match='not both'):
        ManoLayer(mano_root=None, model_path='x.pkl', standin_seed=0)
    assert ManoLayer(mano_root=None, standin_seed=0).th_weights.shape == (778, 16)
