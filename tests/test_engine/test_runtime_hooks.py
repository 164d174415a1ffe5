"""The runtime base config's hooks act in a user's own ``Runner.from_cfg(cfg).train()``.

A plain Python script (a subprocess: the settings are process-wide) builds a tiny config on
``configs/_base_/default_runtime.py`` and trains it for two epochs with a checkpoint each
epoch; after the first save the disk is made full (``os.fsync`` fails with ``ENOSPC``). The
script reports what the run left behind; nothing in it calls an mmhandobj helper.
"""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from mmhandobj.registry import HOOKS
from mmhandobj.utils.cpu_malloc import _glibc

ROOT = Path(__file__).parents[2]
RUNTIME_BASE = ROOT / 'configs' / '_base_' / 'default_runtime.py'
#: Size of the block the script allocates and frees 20 times after training (bytes).
BLOCK_BYTES = 40 * 2**20
PAGE_BYTES = 4096

_USER_SCRIPT = textwrap.dedent('''
    import errno, json, os, resource, sys
    import torch
    import torch.multiprocessing as torch_mp
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.model import BaseModel
    from mmengine.runner import Runner
    from mmengine.runner.checkpoint import CheckpointLoader
    from torch.utils.data import Dataset
    from mmhandobj.registry import DATASETS, HOOKS, MODELS

    @MODELS.register_module()
    class TinyRegressor(BaseModel):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, inputs, data_samples=None, mode='tensor'):
            return dict(loss=((self.weight - inputs) ** 2).mean())

    @DATASETS.register_module()
    class Numbers(Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, index):
            return dict(inputs=torch.tensor([float(index)]))

    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    @HOOKS.register_module()
    class FillDiskAfterFirstEpoch(Hook):
        priority = 'LOWEST'  # after the checkpoint hook's save

        def after_train_epoch(self, runner):
            os.fsync = full_disk

    base, work_dir, block_bytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
    torch_mp.set_sharing_strategy('file_descriptor')
    renamed = []
    real_replace = os.replace

    def recording_replace(src, dst):
        renamed.append([os.path.basename(str(src)), os.path.basename(str(dst))])
        real_replace(src, dst)

    os.replace = recording_replace
    cfg = Config.fromfile(base)
    cfg.merge_from_dict(dict(
        work_dir=work_dir, model=dict(type='TinyRegressor'),
        train_dataloader=dict(dataset=dict(type='Numbers'), batch_size=4, num_workers=1,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(interval=1)),
        custom_hooks=cfg.custom_hooks + [dict(type='FillDiskAfterFirstEpoch')],
        visualizer=dict(vis_backends=[dict(type='LocalVisBackend')])))
    error = None
    try:
        Runner.from_cfg(cfg).train()
    except OSError as err:
        error = str(err)
    os.replace = real_replace

    def cycle():
        for _ in range(20):
            block = torch.ones(block_bytes // 4)
            del block

    cycle()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    cycle()
    print(json.dumps(dict(
        error=error, renamed=renamed, strategy=torch_mp.get_sharing_strategy(),
        page_faults=resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before,
        loader=CheckpointLoader._schemes[''].__module__)))
''')


@pytest.fixture(scope='module')
def user_run(tmp_path_factory):
    """Run the user script once; return its report and work dir."""
    work_dir = tmp_path_factory.mktemp('user_run') / 'work'
    proc = subprocess.run([sys.executable, '-c', _USER_SCRIPT, str(RUNTIME_BASE), str(work_dir),
                           str(BLOCK_BYTES)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, 'PYTHONPATH': str(ROOT),
                               'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return json.loads(proc.stdout.strip().splitlines()[-1]), work_dir


def test_hooks_are_registered():
    assert HOOKS.get('AtomicCheckpointHook') is not None
    assert HOOKS.get('ProcessSettingsHook') is not None


def test_checkpoint_and_pointer_are_renamed_into_place(user_run):
    report, work_dir = user_run
    targets = {dst: src for src, dst in report['renamed']}
    assert {'epoch_1.pth', 'last_checkpoint'} <= set(targets)
    for dst, src in targets.items():
        assert src.startswith(f'.{dst}.tmp-'), (src, dst)


def test_full_disk_mid_save_names_the_file_and_keeps_the_previous_checkpoint(user_run):
    report, work_dir = user_run
    assert report['error'] is not None, 'the epoch-2 save on a full disk did not fail'
    assert 'epoch_2.pth' in report['error'] and 'no space left on device' in report['error']
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    assert not list(work_dir.glob('.*.tmp-*'))
    assert (work_dir / 'last_checkpoint').read_text() == str(work_dir / 'epoch_1.pth')
    state = torch.load(work_dir / 'epoch_1.pth', weights_only=False)
    assert state['meta']['epoch'] == 1


def test_tensor_sharing_strategy_applied(user_run):
    assert user_run[0]['strategy'] == 'file_system'  # the script set file_descriptor first


@pytest.mark.skipif(_glibc() is None, reason='mallopt needs glibc')
def test_malloc_retain_freed_applied(user_run):
    # glibc's default maps and unmaps every 40 MiB block: each of the 20 faults all its pages
    assert user_run[0]['page_faults'] < BLOCK_BYTES // PAGE_BYTES // 10


def test_safe_checkpoint_loader_installed_for_resume(user_run):
    assert user_run[0]['loader'] == 'mmhandobj.utils.checkpoint'
