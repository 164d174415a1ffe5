"""Tiny synthetic worlds shared by the tests of this folder (generated once per session)."""
import os

import pytest

from mmhandobj.synthetic import make_synthetic_world


@pytest.fixture(scope='session')
def ho3d_v2_root(tmp_path_factory):
    root = os.path.join(tmp_path_factory.mktemp('ho3d_v2'), 'world')
    make_synthetic_world('ho3d', root, num_frames=10, seed=3, version='v2')
    return root


@pytest.fixture(scope='session')
def ho3d_v3_root(tmp_path_factory):
    root = os.path.join(tmp_path_factory.mktemp('ho3d_v3'), 'world')
    make_synthetic_world('ho3d', root, num_frames=5, seed=4, version='v3')
    return root


@pytest.fixture(scope='session')
def dexycb_root(tmp_path_factory):
    root = os.path.join(tmp_path_factory.mktemp('dexycb'), 'world')
    make_synthetic_world('dexycb', root, num_frames=50, seed=5)
    return root
