"""Small synthetic HO3D and DexYCB worlds, generated and converted once per test session.

The worlds live under the session's base temporary folder, so ``tests/test_tools`` reuses the
same ones instead of rendering them again.
"""
import os.path as osp

import pytest

from mmhandobj.datasets.converters import convert_dexycb, convert_ho3d
from mmhandobj.datasets.synthetic import is_complete_world, make_synthetic_world


def _world(tmp_path_factory, fmt, num_frames):
    root = str(tmp_path_factory.getbasetemp() / f'{fmt}_world')
    if not is_complete_world(root):
        make_synthetic_world(fmt, root, num_frames, seed=0)
    return root


@pytest.fixture(scope='session')
def ho3d_root(tmp_path_factory):
    root = _world(tmp_path_factory, 'ho3d', 24)
    for split in ('train', 'evaluation'):
        convert_ho3d(root, osp.join(root, 'annotations', f'ho3d_v2_{split}.npz'), split, 'v2')
    return root


@pytest.fixture(scope='session')
def dexycb_root(tmp_path_factory):
    root = _world(tmp_path_factory, 'dexycb', 50)
    for split in ('train', 'test'):
        convert_dexycb(root, osp.join(root, 'annotations', f'dexycb_s0_{split}.npz'),
                       osp.join(root, 'mano'), 's0', split)
    return root
