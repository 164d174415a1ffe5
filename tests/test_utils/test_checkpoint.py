import os
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

from mmhandobj.utils import TRUST_ENV, load_checkpoint_file
from mmhandobj.utils.checkpoint import atomic_write_bytes


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
