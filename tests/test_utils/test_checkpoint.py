import errno
import logging.handlers
import os
import pickle
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmhandobj.utils import (
    TRUST_ENV,
    CheckpointFileError,
    apply_mmengine_patches,
    find_resume_checkpoint,
    load_checkpoint_file,
    sweep_stale_temporary_files,
)
from mmhandobj.utils.checkpoint import atomic_write_bytes

ROOT = Path(__file__).parents[2]


class _Payload:
    """An object whose unpickling would run os.system: must be refused."""

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def _mmengine_like_checkpoint() -> dict:
    buf = HistoryBuffer()
    buf.update(1.5)
    buf.update(2.5)
    return dict(
        meta=dict(epoch=5, iter=40, seed=np.int64(0)),
        state_dict={'w': torch.arange(6.0).reshape(2, 3)},
        message_hub=dict(log_scalars={'train/loss': buf},
                         runtime_info=dict(arr=np.arange(3, dtype=np.float32))))


def test_loads_mmengine_checkpoint_with_safe_unpickling(tmp_path):
    path = tmp_path / 'epoch_5.pth'
    torch.save(_mmengine_like_checkpoint(), path)
    loaded = load_checkpoint_file(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.arange(6.0).reshape(2, 3))
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert buf.mean() == pytest.approx(2.0)
    np.testing.assert_array_equal(loaded['message_hub']['runtime_info']['arr'], [0, 1, 2])
    # MMEngine's own loading path goes through the registered loader.
    apply_mmengine_patches()
    again = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert torch.equal(again['state_dict']['w'], loaded['state_dict']['w'])


def test_refuses_unknown_globals(tmp_path, monkeypatch):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'payload': _Payload()}, path)
    monkeypatch.delenv(TRUST_ENV, raising=False)
    with pytest.raises(pickle.UnpicklingError, match='refused to load checkpoint .*evil.pth'):
        load_checkpoint_file(str(path))


def test_refuses_getattr_beyond_history_buffer(tmp_path):
    class _Sneaky:
        def __reduce__(self):
            return (getattr, (HistoryBuffer, '__subclasses__'))

    path = tmp_path / 'sneaky.pth'
    torch.save({'x': _Sneaky()}, path)
    with pytest.raises(pickle.UnpicklingError, match=TRUST_ENV):
        load_checkpoint_file(str(path))


def test_missing_checkpoint_names_file(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        load_checkpoint_file(str(tmp_path / 'nope.pth'))


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_5.pth'
    atomic_write_bytes(b'old', target)

    def broken_fsync(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', broken_fsync)
    with pytest.raises(OSError, match='disk full'):
        atomic_write_bytes(b'new-and-longer', target)
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_5.pth']


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_patches_are_not_applied_on_import_but_by_apply():
    """Importing changes nothing; the one patch swaps only the loader, never a backend."""
    code = (
        'import mmengine.fileio.backends as b\n'
        'from mmengine.runner.checkpoint import CheckpointLoader\n'
        'import mmhandobj, mmhandobj.datasets, mmhandobj.models, mmhandobj.evaluation\n'
        'import mmhandobj.utils, mmhandobj.apis, mmhandobj.engine\n'
        'before = (CheckpointLoader._schemes[""].__module__, b.backends["local"].__name__)\n'
        'mmhandobj.utils.apply_mmengine_patches()\n'
        'after = (CheckpointLoader._schemes[""].__module__, b.backends["local"].__name__)\n'
        'print(before, after)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env=dict(os.environ, PYTHONPATH=str(ROOT)), check=True).stdout
    assert out.strip() == ("('mmengine.runner.checkpoint', 'LocalBackend') "
                           "('mmhandobj.utils.checkpoint', 'LocalBackend')")


def test_empty_and_truncated_checkpoints_name_the_file(tmp_path):
    empty = tmp_path / 'epoch_1.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointFileError, match=r'epoch_1\.pth is empty'):
        load_checkpoint_file(str(empty))
    full = tmp_path / 'full.pth'
    torch.save(_mmengine_like_checkpoint(), full)
    truncated = tmp_path / 'epoch_2.pth'
    truncated.write_bytes(full.read_bytes()[:full.stat().st_size // 2])
    with pytest.raises(CheckpointFileError, match=r'epoch_2\.pth \(\d+ bytes\) is truncated'):
        load_checkpoint_file(str(truncated))
    apply_mmengine_patches()  # MMEngine's loader (runner, init_model) says the same
    with pytest.raises(CheckpointFileError, match=r'epoch_2\.pth'):
        CheckpointLoader.load_checkpoint(str(truncated), map_location='cpu')


def test_atomic_write_keeps_normal_permissions_and_syncs_the_folder(tmp_path, monkeypatch):
    synced_dirs = []
    real_fsync = os.fsync

    def recording_fsync(fd):
        synced_dirs.append(stat.S_ISDIR(os.fstat(fd).st_mode))
        real_fsync(fd)

    monkeypatch.setattr(os, 'fsync', recording_fsync)
    old_umask = os.umask(0o022)
    try:
        target = tmp_path / 'epoch_3.pth'
        atomic_write_bytes(b'data', target)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644  # as a plain open() under umask 022
    assert synced_dirs == [False, True]  # the file, then its folder after the rename


def test_no_space_left_names_the_target(tmp_path, monkeypatch):
    def full_disk(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', full_disk)
    with pytest.raises(OSError, match=r'cannot write .*epoch_9\.pth: no space left on device'):
        atomic_write_bytes(b'x' * 100, tmp_path / 'epoch_9.pth')
    assert list(tmp_path.iterdir()) == []


def test_resume_falls_back_to_newest_loadable_checkpoint(tmp_path):
    records = logging.handlers.BufferingHandler(capacity=100)
    MMLogger.get_current_instance().addHandler(records)
    torch.save(_mmengine_like_checkpoint(), tmp_path / 'epoch_5.pth')
    (tmp_path / 'epoch_10.pth').write_bytes(b'PK\x03\x04 truncated')
    (tmp_path / 'last_checkpoint').write_text('')
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_5.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_15.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_5.pth')
    MMLogger.get_current_instance().removeHandler(records)
    out = '\n'.join(record.getMessage() for record in records.buffer)
    assert 'last_checkpoint is empty; resuming from' in out
    assert 'names the missing file' in out and 'skipping' in out and 'epoch_10.pth' in out
    # a pointer naming the truncated file falls back too
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_10.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_5.pth')
    assert find_resume_checkpoint(str(tmp_path / 'nothing')) is None


def test_sweep_removes_temporary_files_of_dead_writers_only(tmp_path):
    stale = tmp_path / f'.epoch_5.pth.tmp-{_dead_pid()}-0123abcd'
    live = tmp_path / f'.epoch_6.pth.tmp-{os.getpid()}-0123abcd'
    for path in (stale, live, tmp_path / 'epoch_4.pth'):
        path.write_bytes(b'x')
    assert sweep_stale_temporary_files(str(tmp_path)) == [str(stale)]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, 'epoch_4.pth'])
