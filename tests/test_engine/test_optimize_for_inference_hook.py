"""tools/test.py adds OptimizeForInferenceHook; the hook folds BatchNorms and goes channels-last."""
import sys
from pathlib import Path
from types import SimpleNamespace

import torch
from repo_scripts import load_script
from torch import nn

from mmhandobj.engine import OptimizeForInferenceHook
from mmhandobj.registry import MODELS

ROOT = Path(__file__).parents[2]


def _test_tool():
    return load_script('tools/test.py', 'test_tool')


def _hooks(tool, tmp_path, *flags):
    ckpt = tmp_path / 'model.pth'
    ckpt.write_bytes(b'')
    argv = ['test.py', str(ROOT / 'configs' / 'hfl' / 'hfl_r18_synthetic.py'), str(ckpt),
            '--work-dir', str(tmp_path), *flags]
    old, sys.argv = sys.argv, argv
    try:
        cfg = tool.build_config(tool.parse_args())
    finally:
        sys.argv = old
    return [h for h in cfg.custom_hooks if h['type'] == 'OptimizeForInferenceHook']


def test_test_tool_adds_the_hook_with_its_flags(tmp_path):
    tool = _test_tool()
    assert _hooks(tool, tmp_path) == [dict(type='OptimizeForInferenceHook', fuse_bn=True,
                                           channels_last=True)]
    assert _hooks(tool, tmp_path, '--no-fuse-bn', '--no-channels-last') == [
        dict(type='OptimizeForInferenceHook', fuse_bn=False, channels_last=False)]


def test_hook_optimises_the_runner_model_before_testing(hfl_model_cfg):
    model = MODELS.build(hfl_model_cfg())
    model.init_weights()
    model.train()
    runner = SimpleNamespace(model=model)  # the hook reads runner.model only
    OptimizeForInferenceHook().before_test(runner)
    assert not model.training
    assert model.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert isinstance(model.backbone.bn1, nn.Identity)
    plain = MODELS.build(hfl_model_cfg())
    OptimizeForInferenceHook(fuse_bn=False, channels_last=False).before_test(
        SimpleNamespace(model=plain))
    assert isinstance(plain.backbone.bn1, nn.BatchNorm2d) and not plain.training
    assert plain.backbone.conv1.weight.is_contiguous()
