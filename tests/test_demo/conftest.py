"""A tiny hand/object detector trained on two synthetic frames, shared by the demo tests.

Each demo runs once as a script (a subprocess, as a user runs it); the other cases call its
``main()`` in this process (same code path, without a second interpreter start and imports).
"""
import os.path as osp
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Tuple

import pytest
import torch
from mmengine.registry import init_default_scope
from repo_scripts import load_script

from mmhandobj.apis import init_model
from mmhandobj.apis.detection import init_detector
from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.converters import convert_ho3d

REPO = Path(__file__).parents[2]
#: Training frames of the tiny detector (positions in the 24-frame world's train split).
DET_FRAMES = (0, 9)
DET_ITERS = 80
DET_SIZE = 96


def write_hfl_config(path: Path) -> str:
    """The quick-start config with a 32-channel model (fast on CPU)."""
    base = str(REPO / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')
    path.write_text(
        f'_base_ = [{base!r}]\n'
        'model = dict(\n'
        '    neck=dict(out_channels=32),\n'
        '    obj_to_hand_fusion=dict(in_channels=32),\n'
        '    hand_to_obj_fusion=dict(in_channels=32),\n'
        '    hand_head=dict(in_channels=32, mano_hidden=[64, 32]),\n'
        '    obj_head=dict(in_channels=32))\n')
    return str(path)


@pytest.fixture(scope='session')
def tiny_hfl(tmp_path_factory):
    """``(config, checkpoint)`` of a randomly initialised 32-channel quick-start HFL-Net."""
    folder = tmp_path_factory.mktemp('hfl')
    config = write_hfl_config(folder / 'tiny.py')
    torch.manual_seed(0)
    ckpt = folder / 'tiny.pth'
    torch.save(dict(state_dict=init_model(config).state_dict()), ckpt)
    return config, str(ckpt)


def write_det_config(path: Path) -> str:
    """The synthetic detector config at 128x96 (fast on CPU)."""
    base = str(REPO / 'configs' / 'det' / 'fcos_mbv3s_synthetic.py')
    path.write_text(f'_base_ = [{base!r}]\n'
                    f'model = dict(min_size={DET_SIZE}, max_size={DET_SIZE * 4 // 3})\n')
    return str(path)


@pytest.fixture(scope='session')
def tiny_detector(tmp_path_factory, ho3d_raw_root):
    """``(config, checkpoint, world root, frame infos)`` of a detector overfit on two frames."""
    root = ho3d_raw_root
    ann = osp.join(root, 'annotations', 'ho3d_v2_train.npz')
    if not osp.isfile(ann):
        convert_ho3d(root, ann, 'train', 'v2')
    folder = tmp_path_factory.mktemp('detector')
    config = write_det_config(folder / 'det_tiny.py')
    init_default_scope('mmhandobj')
    pipeline = [dict(type='LoadHandObjectImage'), dict(type='GenerateDetectionTargets'),
                dict(type='PackDetectionInputs')]
    dataset = HO3DDataset(data_root=root, split='train', pipeline=pipeline,
                          indices=list(DET_FRAMES))
    torch.manual_seed(0)
    model = init_detector(config)
    data = model.data_preprocessor(dict(inputs=[dataset[i]['inputs'] for i in range(2)],
                                        data_samples=[dataset[i]['data_samples']
                                                      for i in range(2)]), True)
    optim = torch.optim.Adam(model.parameters(), lr=5e-3)
    model.train()
    for _ in range(DET_ITERS):
        loss = sum(model(data['inputs'], data['data_samples'], mode='loss').values())
        optim.zero_grad()
        loss.backward()
        optim.step()
    ckpt = folder / 'det_tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    infos = [dataset.get_data_info(i) for i in range(2)]
    return config, str(ckpt), root, infos


def import_demo(name: str) -> ModuleType:
    """``demo/<name>.py`` imported as a module."""
    return load_script(f'demo/{name}.py')


@pytest.fixture(scope='session')
def load_demo() -> Callable[[str], ModuleType]:
    """:func:`import_demo`, as a fixture."""
    return import_demo


@pytest.fixture
def run_main(monkeypatch, capsys) -> Callable[..., Tuple[str, str, str]]:
    """Run ``demo/<name>.py ARGS...`` in this process: ``(exit message, stdout, stderr)``.

    The exit message is ``''`` for a normal end, else what ``SystemExit`` carries (the text
    the script prints on stderr before exiting with status 1).
    """
    def run(name: str, *args: str) -> Tuple[str, str, str]:
        module = import_demo(name)
        monkeypatch.setattr(sys, 'argv', [f'{name}.py', *map(str, args)])
        message = ''
        try:
            module.main()
        except SystemExit as exc:
            message = '' if exc.code in (None, 0) else str(exc.code)
        out, err = capsys.readouterr()
        return message, out, err
    return run
