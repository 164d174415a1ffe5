from pathlib import Path

import pytest

from mmhandobj.synthetic.world import make_synthetic_world

CONFIG = str(Path(__file__).parents[2] / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')


@pytest.fixture(scope='session')
def synthetic_world(tmp_path_factory) -> str:
    """A tiny HO3D-layout synthetic world (4 frames)."""
    root = tmp_path_factory.mktemp('world') / 'ho3d'
    make_synthetic_world('ho3d', str(root), 4, seed=0)
    return str(root)


@pytest.fixture(scope='session')
def quickstart_config() -> str:
    """Path of the shipped quick-start config."""
    return CONFIG


@pytest.fixture(scope='session')
def tiny_options(synthetic_world, tiny_model_options) -> dict:
    """``cfg_options`` for :data:`CONFIG`: tiny model, test dataset root = the tiny world."""
    return {**tiny_model_options, 'test_dataloader.dataset.data_root': synthetic_world}
