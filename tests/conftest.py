"""Fixtures shared by the whole test suite."""
from pathlib import Path
from typing import Callable

import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger

from mmhandobj.synthetic import is_complete_world, make_synthetic_world
from mmhandobj.utils import with_standin_mano

R50_MODEL_CONFIG = Path(__file__).parents[1] / 'configs' / '_base_' / 'models' / 'hfl_r50.py'


#: ``--cfg-options`` that shrink the quick-start config's model to 32 channels for fast tests.
TINY_MODEL_OPTIONS = {
    'model.neck.out_channels': 32,
    'model.obj_to_hand_fusion.in_channels': 32,
    'model.hand_to_obj_fusion.in_channels': 32,
    'model.hand_head.in_channels': 32,
    'model.hand_head.mano_hidden': [64, 32],
    'model.obj_head.in_channels': 32,
}


def build_hfl_model_cfg(tiny: bool = True) -> dict:
    """The R50 HFL-Net model config with the stand-in MANO (seed 0), optionally shrunk.

    ``tiny=True`` gives a depth-18 trunk and 32-channel FPN/fusion/heads for fast tests.
    """
    cfg = Config.fromfile(str(R50_MODEL_CONFIG))
    if tiny:
        cfg.merge_from_dict({'model.backbone.depth': 18,
                             'model.neck.in_channels': [64, 128, 256, 512],
                             **TINY_MODEL_OPTIONS})
    model = with_standin_mano(cfg.model)
    model.pop('data_preprocessor')
    return model


SHO_MODEL_CONFIG = Path(__file__).parents[1] / 'configs' / '_base_' / 'models' / 'sho_r50.py'


def build_tiny_sho_model_cfg() -> dict:
    """The R50 Semi-Hand-Object model config shrunk to a depth-18 trunk and 32 channels, with
    the stand-in MANO (seed 0, metres, SHO's fingertips)."""
    cfg = with_standin_mano(Config.fromfile(str(SHO_MODEL_CONFIG)).model)
    cfg.pop('data_preprocessor')
    cfg['backbone']['depth'] = 18
    cfg['neck'].update(in_channels=[64, 128, 256, 512], out_channels=32)
    cfg['contextual_reasoning']['in_channels'] = 32
    cfg['hand_head'].update(in_channels=32, mano_hidden=[64, 32])
    cfg['obj_head']['in_channels'] = 32
    return cfg


@pytest.fixture(autouse=True)
def _drop_loggers_the_test_made():
    """MMEngine keeps every ``MMLogger`` for the life of the process, each writing to the
    ``sys.stdout`` of the moment it was made. One made inside a test writes into that test's
    capture, closed afterwards, so a later test's ``print_log`` would print a logging error
    into its own stderr. The loggers a test made are closed and dropped after it."""
    before = set(MMLogger._instance_dict)
    yield
    for name in [name for name in MMLogger._instance_dict if name not in before]:
        logger = MMLogger._instance_dict.pop(name)
        for handler in list(logger.handlers):
            handler.close()
            logger.removeHandler(handler)


@pytest.fixture(scope='session')
def sho_model_cfg() -> Callable[[], dict]:
    """:func:`build_tiny_sho_model_cfg`, as a fixture."""
    return build_tiny_sho_model_cfg


@pytest.fixture(scope='session')
def tiny_model_options() -> dict:
    """:data:`TINY_MODEL_OPTIONS`, as a fixture (a fresh copy)."""
    return dict(TINY_MODEL_OPTIONS)


@pytest.fixture(scope='session')
def hfl_model_cfg() -> Callable[..., dict]:
    """:func:`build_hfl_model_cfg`, as a fixture."""
    return build_hfl_model_cfg


def _raw_world(tmp_path_factory, fmt: str, num_frames: int) -> str:
    """A raw synthetic world in the session's base temporary folder, rendered once."""
    root = str(tmp_path_factory.getbasetemp() / f'{fmt}_world')
    if not is_complete_world(root):
        make_synthetic_world(fmt, root, num_frames, seed=0)
    return root


@pytest.fixture(scope='session')
def ho3d_raw_root(tmp_path_factory) -> str:
    """A 24-frame HO3D-layout world (train sequences SM2, ABF10, GPMF10; evaluation SM1)."""
    return _raw_world(tmp_path_factory, 'ho3d', 24)


@pytest.fixture(scope='session')
def dexycb_raw_root(tmp_path_factory) -> str:
    """A 50-frame DexYCB-layout world (relaxed mode, both hands)."""
    return _raw_world(tmp_path_factory, 'dexycb', 50)
