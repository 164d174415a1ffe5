"""Raw synthetic HO3D and DexYCB worlds for the converter tests (shared per session)."""
import pytest

from mmhandobj.datasets.synthetic import is_complete_world, make_synthetic_world


def _world(tmp_path_factory, fmt, num_frames):
    root = str(tmp_path_factory.getbasetemp() / f'{fmt}_world')
    if not is_complete_world(root):
        make_synthetic_world(fmt, root, num_frames, seed=0)
    return root


@pytest.fixture(scope='session')
def ho3d_raw_root(tmp_path_factory):
    return _world(tmp_path_factory, 'ho3d', 24)


@pytest.fixture(scope='session')
def dexycb_raw_root(tmp_path_factory):
    return _world(tmp_path_factory, 'dexycb', 50)
