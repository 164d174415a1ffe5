"""Every shipped config parses, and everything it names builds."""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmhandobj.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmhandobj.utils import register_all_modules

CONFIG_DIR = Path(__file__).parents[2] / 'configs' / 'hfl'
CONFIGS = sorted(CONFIG_DIR.glob('*.py'))
R50_PARAMS = 46_080_659


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules()


def test_all_configs_found():
    names = {p.name for p in CONFIGS}
    assert {'hfl_r50_ho3d.py', 'hfl_r50_dexycb.py', 'hfl_r50_cbam_ho3d.py',
            'hfl_r18_synthetic.py'} <= names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmhandobj'
    # real-data configs read data/mano; build with the stand-in so no MANO file is needed
    cfg.model.hand_head.mano_cfg.mano_root = None
    cfg.model.hand_head.mano_cfg.standin_seed = 0
    model = MODELS.build(cfg.model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if path.stem in ('hfl_r50_ho3d', 'hfl_r50_dexycb'):
        assert trainable == R50_PARAMS
    elif path.stem == 'hfl_r50_cbam_ho3d':
        assert trainable > R50_PARAMS
        assert any('cbam' in name for name, _ in model.named_parameters())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader = cfg[key]
        assert DATASETS.get(loader.dataset.type) is not None
        for transform in loader.dataset.pipeline:
            TRANSFORMS.build(transform)
    for key in ('val_evaluator', 'test_evaluator'):
        for metric in cfg[key]:
            assert METRICS.get(metric.type) is not None, metric.type
    assert cfg.default_hooks.checkpoint.interval == 5
    assert cfg.optim_wrapper.type == 'OptimWrapper'


def test_r50_forward_on_flagship_input_size():
    cfg = Config.fromfile(str(CONFIG_DIR / 'hfl_r50_ho3d.py'))
    cfg.model.hand_head.mano_cfg.mano_root = None
    cfg.model.hand_head.mano_cfg.standin_seed = 0
    model = MODELS.build(cfg.model).eval()
    boxes = torch.tensor([[40., 50., 160., 170.]])
    with torch.no_grad():
        out = model.forward_raw(torch.rand(1, 3, 256, 256), boxes, boxes + 30)
    assert out['hand_verts'].shape == (1, 778, 3)
    assert out['obj_vote_conf'].shape == (1, 32, 32, 21)
