"""Fixtures shared by the whole test suite."""
import copy
from pathlib import Path
from typing import Callable

import pytest
from mmengine.config import Config

R50_MODEL_CONFIG = Path(__file__).parents[1] / 'configs' / '_base_' / 'models' / 'hfl_r50.py'


def build_hfl_model_cfg(tiny: bool = True) -> dict:
    """The R50 HFL-Net model config with the stand-in MANO (seed 0), optionally shrunk.

    ``tiny=True`` gives a depth-18 trunk and 32-channel FPN/fusion/heads for fast tests.
    """
    cfg = copy.deepcopy(Config.fromfile(str(R50_MODEL_CONFIG)).model)
    cfg.pop('data_preprocessor')
    cfg['hand_head']['mano_cfg'] = dict(standin_seed=0)
    if tiny:
        cfg['backbone']['depth'] = 18
        cfg['neck'].update(in_channels=[64, 128, 256, 512], out_channels=32)
        cfg['obj_to_hand_fusion']['in_channels'] = 32
        cfg['hand_to_obj_fusion']['in_channels'] = 32
        cfg['hand_head'].update(in_channels=32, mano_hidden=[64, 32])
        cfg['obj_head']['in_channels'] = 32
    return cfg


@pytest.fixture(scope='session')
def hfl_model_cfg() -> Callable[..., dict]:
    """:func:`build_hfl_model_cfg`, as a fixture."""
    return build_hfl_model_cfg
