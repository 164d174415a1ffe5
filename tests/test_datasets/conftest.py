"""The raw synthetic worlds of ``tests/conftest.py``, converted once per test session."""
import os.path as osp

import pytest

from mmhandobj.datasets.converters import convert_dexycb, convert_ho3d


@pytest.fixture(scope='session')
def ho3d_root(ho3d_raw_root):
    for split in ('train', 'evaluation'):
        convert_ho3d(ho3d_raw_root, osp.join(ho3d_raw_root, 'annotations', f'ho3d_v2_{split}.npz'),
                     split, 'v2')
    return ho3d_raw_root


@pytest.fixture(scope='session')
def dexycb_root(dexycb_raw_root):
    root = dexycb_raw_root
    for split in ('train', 'test'):
        convert_dexycb(root, osp.join(root, 'annotations', f'dexycb_s0_{split}.npz'),
                       osp.join(root, 'mano'), 's0', split)
    return root
