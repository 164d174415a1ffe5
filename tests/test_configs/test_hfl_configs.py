"""Every shipped config parses, everything it names builds, and it carries no output path."""
import os
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmhandobj.apis import register_all_modules
from mmhandobj.registry import DATASETS, METRICS, MODELS, TRANSFORMS
from mmhandobj.utils import with_standin_mano

CONFIG_ROOT = Path(__file__).parents[2] / 'configs'
CONFIG_DIR = CONFIG_ROOT / 'hfl'
#: Every runnable config (``_base_`` holds fragments only).
CONFIGS = sorted(p for p in CONFIG_ROOT.rglob('*.py') if '_base_' not in p.parts)
R50_PARAMS = 46_080_659
#: Raw layout of each dataset type: the session's synthetic world written in it.
WORLD_OF_DATASET = {'HO3DDataset': 'ho3d_raw_root', 'SyntheticHO3DDataset': 'ho3d_raw_root',
                    'DexYCBDataset': 'dexycb_raw_root'}
#: Config keys that name where something is written: the work dir decides those.
OUTPUT_KEYS = ('out_dir', 'out_file', 'out_file_path', 'outfile_prefix', 'work_dir',
               'toolkit_result_file', 'save_dir', 'test_out_dir')


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules()


def test_all_configs_found():
    names = {p.name for p in CONFIGS}
    assert {'hfl_r50_ho3d.py', 'hfl_r50_dexycb.py', 'hfl_r50_cbam_ho3d.py',
            'hfl_r18_synthetic.py'} <= names


def _leaf_datasets(dataset):
    """The datasets of a dataset config (those a ``ConcatDataset`` wraps, else itself)."""
    if dataset.type == 'ConcatDataset':
        return [leaf for inner in dataset.datasets for leaf in _leaf_datasets(inner)]
    return [dataset]


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_builds(path):
    cfg = Config.fromfile(str(path))
    assert cfg.default_scope == 'mmhandobj'
    # real-data configs read data/mano; build with the stand-in so no MANO file is needed
    is_hand_model = 'hand_head' in cfg.model  # not the detectors of configs/det/
    model = MODELS.build(with_standin_mano(cfg.model) if is_hand_model else cfg.model)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if path.stem in ('hfl_r50_ho3d', 'hfl_r50_dexycb'):
        assert trainable == R50_PARAMS
    elif path.stem == 'hfl_r50_cbam_ho3d':
        assert trainable > R50_PARAMS
        assert any('cbam' in name for name, _ in model.named_parameters())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for dataset in _leaf_datasets(cfg[key].dataset):
            assert DATASETS.get(dataset.type) is not None
            for transform in dataset.pipeline:
                TRANSFORMS.build(transform)
    assert cfg.default_hooks.checkpoint.interval == 5
    assert cfg.optim_wrapper.type == 'OptimWrapper'


def test_r50_forward_on_flagship_input_size():
    cfg = Config.fromfile(str(CONFIG_DIR / 'hfl_r50_ho3d.py'))
    model = MODELS.build(with_standin_mano(cfg.model)).eval()
    boxes = torch.tensor([[40., 50., 160., 170.]])
    with torch.no_grad():
        out = model.forward_raw(torch.rand(1, 3, 256, 256), boxes, boxes + 30)
    assert out['hand_verts3d'].shape == (1, 778, 3)
    assert out['obj_vote_conf'].shape == (1, 32, 32, 21)


def _metrics(evaluator):
    return list(evaluator) if isinstance(evaluator, (list, tuple)) else [evaluator]


def _output_paths(node, where=''):
    """``(key path, value)`` of every output-path key or ``work_dirs`` string in a config."""
    found = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in OUTPUT_KEYS and value is not None:
                found.append((f'{where}.{key}', value))
            found += _output_paths(value, f'{where}.{key}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += _output_paths(value, f'{where}[{i}]')
    elif isinstance(node, str) and 'work_dirs' in node:
        found.append((where, node))
    return found


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_config_carries_no_output_path(path):
    cfg = Config.fromfile(str(path))
    assert _output_paths(cfg.to_dict()) == []
    # the runner puts the metrics' files in <work_dir>/val and <work_dir>/test instead
    assert cfg.default_hooks.metric_out_dir.type == 'MetricOutDirHook'


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: p.stem)
def test_every_evaluator_builds_on_a_real_layout(path, request, tmp_path, monkeypatch):
    """Each evaluator is built as the runner builds it, on the synthetic world written in the
    layout of the config's dataset at the config's ``data_root`` (constructors read paths)."""
    cfg = Config.fromfile(str(path))
    datasets = [leaf for key in ('train_dataloader', 'val_dataloader', 'test_dataloader')
                for leaf in _leaf_datasets(cfg[key].dataset)]
    for dataset in datasets:
        assert dataset.type in WORLD_OF_DATASET, (
            f'{path.name}: no synthetic layout for dataset type {dataset.type}; add it to '
            'WORLD_OF_DATASET')
        link = tmp_path / dataset.data_root
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            os.symlink(request.getfixturevalue(WORLD_OF_DATASET[dataset.type]), link)
    monkeypatch.chdir(tmp_path)
    for key in ('val_evaluator', 'test_evaluator'):
        for metric_cfg in _metrics(cfg[key]):
            metric = METRICS.build(metric_cfg)
            assert type(metric).__name__ == metric_cfg.type
            if hasattr(metric, 'out_dir'):
                assert metric.out_dir is None  # set from the work dir by MetricOutDirHook
