"""Every split a shipped config tests runs through ``tools/test.py`` to the end.

The shipped HO3D and DexYCB configs are run unchanged except for a tiny model and the
dataloader workers, in a working directory whose ``data/ho3d``, ``data/dexycb`` and
``data/mano`` are the synthetic worlds (HO3D v2 and v3, DexYCB). The DexYCB world holds
hand-less frames (``joint_3d`` = -1) in its test split: the hand metric skips and counts them,
the object metric scores every frame.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest
import torch
from mmengine.registry import init_default_scope

from mmhandobj.datasets.converters import convert_dexycb, convert_ho3d
from mmhandobj.registry import MODELS
from mmhandobj.synthetic import make_synthetic_world, read_world_summary

ROOT = Path(__file__).parents[2]
HO3D_CONFIG = str(ROOT / 'configs' / 'hfl' / 'hfl_r50_ho3d.py')
DEXYCB_CONFIG = str(ROOT / 'configs' / 'hfl' / 'hfl_r50_dexycb.py')
#: Small test settings: one process, no workers, the tiny trunk of ``tests/conftest.py`` on
#: 96x96 crops with 16x16 RoIs (as the quick start). Pipeline step 4 is ``HandObjectAffine``,
#: step 5 ``GenerateHandObjectTargets``.
RUN_OPTIONS = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
               'test_dataloader.batch_size=64', 'model.backbone.depth=18',
               'model.neck.in_channels=[64,128,256,512]', 'model.roi_extractor.output_size=16',
               'model.hand_head.roi_size=16', 'model.hand_head.encoder_stages=3',
               'test_dataloader.dataset.pipeline.4.input_size=96',
               'test_dataloader.dataset.pipeline.5.mask_size=16']


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory, hfl_model_cfg) -> str:
    """A randomly initialised tiny HFL-Net checkpoint (MANO is never stored in one)."""
    init_default_scope('mmhandobj')
    torch.manual_seed(0)
    cfg = hfl_model_cfg(tiny=True)
    cfg['roi_extractor']['output_size'] = 16
    cfg['hand_head'].update(roi_size=16, encoder_stages=3)
    model = MODELS.build(cfg)
    path = str(tmp_path_factory.mktemp('ckpt') / 'tiny.pth')
    torch.save({'state_dict': model.state_dict()}, path)
    return path


def _link_data(cwd: Path, name: str, world: str) -> None:
    (cwd / 'data').mkdir(exist_ok=True)
    (cwd / 'data' / name).symlink_to(world)
    if not (cwd / 'data' / 'mano').exists():
        (cwd / 'data' / 'mano').symlink_to(os.path.join(world, 'mano'))


def _test_tool(cwd: Path, config: str, ckpt: str, options: List[str],
               tiny: List[str]) -> str:
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'test.py'), config, ckpt, '--work-dir',
         'work_dirs/test', '--cfg-options', *RUN_OPTIONS, *tiny, *options],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    return output


@pytest.fixture(scope='module')
def tiny(tiny_model_options) -> List[str]:
    return [f"{key}={str(value).replace(' ', '')}" for key, value in tiny_model_options.items()]


@pytest.mark.parametrize('version', ['v2', 'v3'])
def test_ho3d_evaluation_split_runs_to_the_end(version, tmp_path, tmp_path_factory, checkpoint,
                                               tiny):
    world = str(tmp_path_factory.mktemp(f'ho3d_{version}') / 'world')
    make_synthetic_world('ho3d', world, num_frames=8, seed=1, version=version)
    convert_ho3d(world, os.path.join(world, 'annotations', f'ho3d_{version}_evaluation.npz'),
                 'evaluation', version)
    _link_data(tmp_path, 'ho3d', world)
    options = [f'test_dataloader.dataset.version={version}',
               f'test_evaluator.0.version={version}']
    log = _test_tool(tmp_path, HO3D_CONFIG, checkpoint, options, tiny)
    expected = read_world_summary(world)['frames']['evaluation']
    with open(tmp_path / 'work_dirs' / 'test' / 'test' / 'pred.json') as f:
        xyz, verts = json.load(f)
    assert len(xyz) == len(verts) == expected
    assert re.search(r'Epoch\(test\).*obj/ADD-0.1D: [0-9.]+', log)


# The strict layout (the toolkit's 100-sequence splits) gives the same code path a 1280-frame test
# split, about 4 minutes of CPU: the relaxed world covers the skip with hand-less test frames.
def test_dexycb_test_split_with_handless_frames_runs_to_the_end(
        dexycb_raw_root, tmp_path, checkpoint, tiny):
    world = dexycb_raw_root
    ann_file = str(tmp_path / 'dexycb_s0_test.npz')
    counts = convert_dexycb(world, ann_file, os.path.join(world, 'mano'), 's0', 'test')
    summary = read_world_summary(world)
    no_hand = summary['invalid_frames']['test']
    assert no_hand > 0  # the point of this test: the split holds frames without a hand
    assert counts['frames'] == summary['frames']['test']
    assert counts['with_hand'] == counts['with_hand_hfl'] == counts['frames'] - no_hand
    _link_data(tmp_path, 'dexycb', world)
    log = _test_tool(tmp_path, DEXYCB_CONFIG, checkpoint,
                     [f'test_dataloader.dataset.ann_file={ann_file}'], tiny)
    scored = re.search(r'Epoch\(test\).*dexycb/MPJPE_mm: [0-9.]+.*dexycb/frames_scored: (\d+).*'
                       r'dexycb/frames_without_hand: (\d+)', log)
    assert scored, log[-3000:]
    assert (int(scored.group(1)), int(scored.group(2))) == (counts['frames'] - no_hand, no_hand)
    # object metrics on every frame (each synthetic frame has its grasped object's pose)
    assert counts['with_object'] == counts['frames']
    assert re.search(r'Epoch\(test\).*obj/ADD-0.1D: [0-9.]+.*obj/OCE_mm: [0-9.]+', log)
    assert 'frames without an object pose skipped' not in log
