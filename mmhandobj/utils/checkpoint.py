"""Safe checkpoint loading for MMEngine under torch >= 2.6.

MMEngine 0.10.7 calls ``torch.load(filename)`` without ``weights_only``; since torch 2.6 that
means safe (weights-only) loading, which refuses the message-hub objects every MMEngine
checkpoint holds, so ``--resume`` fails. Instead of switching safe loading off, this module
registers a local-file loader that keeps ``weights_only=True`` and allow-lists exactly the
globals MMEngine's own checkpoints contain (:data:`MMENGINE_CHECKPOINT_GLOBALS`). Anything else
is refused with an error that names the offending global.

It also makes MMEngine's local file writes atomic (:class:`AtomicLocalBackend`): a checkpoint or
``last_checkpoint`` is written to a temporary file in the same folder, flushed to disk and
renamed over the target, so an interrupted save never leaves a truncated ``epoch_N.pth``.

For a file you trust that holds other objects, set the environment variable
``MMHANDOBJ_TRUST_CHECKPOINTS=1`` (full pickle loading; never do this for downloaded files).
"""
import os
import os.path as osp
import pickle
import tempfile
from pathlib import Path
from typing import Any, List, Optional, Union

import mmengine
import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

TRUST_ENV = 'MMHANDOBJ_TRUST_CHECKPOINTS'


def _numpy_globals() -> List[Any]:
    core = getattr(np, '_core', None) or np.core
    found = [np.ndarray, np.dtype, core.multiarray._reconstruct, core.multiarray.scalar]
    found += [getattr(np.dtypes, name) for name in dir(np.dtypes) if name.endswith('DType')]
    return found


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """Stand-in for ``builtins.getattr`` that only resolves HistoryBuffer statistics methods.

    MMEngine pickles the statistics methods of its message-hub buffers as
    ``getattr(HistoryBuffer, 'mean')``; allowing the real ``getattr`` would let a malicious file
    reach arbitrary attributes, so only these look-ups are served.
    """
    allowed = {'min', 'max', 'mean', 'current', *HistoryBuffer._statistics_methods}
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'getattr({getattr(obj, "__name__", type(obj).__name__)}, {name!r}) is not allowed')


#: Globals that checkpoints written by MMEngine's runner contain (message hub + numpy scalars).
MMENGINE_CHECKPOINT_GLOBALS: List[Any] = [
    HistoryBuffer, (_history_buffer_getattr, 'builtins.getattr'), *_numpy_globals()]


def load_checkpoint_file(filename: str, map_location: Optional[Any] = None) -> Any:
    """Load a local checkpoint with weights-only unpickling plus MMEngine's own globals.

    Args:
        filename: Path of the ``.pth`` file.
        map_location: Passed to :func:`torch.load`.

    Returns:
        The loaded object (usually a dict with ``state_dict``, ``meta``, ``message_hub``...).

    Raises:
        FileNotFoundError: When ``filename`` does not exist.
        pickle.UnpicklingError: When the file holds a global outside the allow-list; the message
            names the global and how to opt out for trusted files.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    if os.environ.get(TRUST_ENV) == '1':
        return torch.load(filename, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
            return torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(
            f'refused to load checkpoint {filename}: it holds objects outside the safe '
            f'allow-list of MMEngine checkpoints ({err}). If you trust this file, set '
            f'{TRUST_ENV}=1 to load it with full pickle.') from None


def _mmengine_local_loader(filename: str, map_location: Optional[Any] = None) -> Any:
    return load_checkpoint_file(filename, map_location)


CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file, fsync, rename).

    Args:
        data: Bytes to write.
        filepath: Target path; its folder is created when missing.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    mmengine.mkdir_or_exist(folder)
    fd, tmp_path = tempfile.mkstemp(prefix='.' + osp.basename(filepath) + '.', dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        raise


class AtomicLocalBackend(LocalBackend):
    """MMEngine's local storage backend whose writes are atomic."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


register_backend('local', AtomicLocalBackend, force=True, prefixes='')
