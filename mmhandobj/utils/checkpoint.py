"""Safe checkpoint loading, atomic local writes, and the one place that patches MMEngine.

MMEngine 0.10.7 calls ``torch.load(filename)`` without ``weights_only``; since torch 2.6 that
means safe (weights-only) loading, which refuses the message-hub objects every MMEngine
checkpoint holds, so ``--resume`` fails. Instead of switching safe loading off,
:func:`apply_mmengine_patches` registers a local-file loader that keeps ``weights_only=True``
and allow-lists exactly the globals MMEngine's own checkpoints contain
(:data:`MMENGINE_CHECKPOINT_GLOBALS`). Anything else is refused with an error that names the
offending global. That loader is the only change made to MMEngine from outside; it is applied
by :func:`apply_mmengine_patches` (idempotent, only under the torch versions it is written for),
which the tools, :func:`mmhandobj.apis.init_model` and
:class:`~mmhandobj.engine.AtomicCheckpointHook` call. Nothing is patched on import.

Atomic writes (:func:`atomic_write_bytes`): a file is written to a temporary file in the same
folder (normal permissions, i.e. ``0o666`` minus the umask), flushed to disk, renamed over the
target and the folder is synced, so an interrupted save never leaves a truncated
``epoch_N.pth`` or an empty ``last_checkpoint``. :class:`AtomicLocalBackend` is MMEngine's local
storage backend with these writes, registered under the backend name :data:`ATOMIC_BACKEND`
(MMEngine's own ``register_backend``; the ``'local'`` backend is left as it is);
:class:`~mmhandobj.engine.AtomicCheckpointHook` saves through it.

For a file you trust that holds other objects, set the environment variable
``MMHANDOBJ_TRUST_CHECKPOINTS=1`` (full pickle loading; never do this for downloaded files).
"""
import errno
import glob
import os
import os.path as osp
import pickle
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

import mmengine
import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.logging import print_log
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader
from mmengine.utils import digit_version

TRUST_ENV = 'MMHANDOBJ_TRUST_CHECKPOINTS'
#: torch release from which ``torch.load`` is weights-only by default (MMEngine resume breaks).
TORCH_WEIGHTS_ONLY_DEFAULT = '2.6.0'
#: MMEngine storage-backend name of :class:`AtomicLocalBackend` (``backend_args['backend']``).
ATOMIC_BACKEND = 'atomic_local'
#: Marker in the names of temporary files written by :func:`atomic_write_bytes`.
TMP_MARKER = '.tmp-'
_TMP_NAME = re.compile(r'^\.(?P<target>.+)' + re.escape(TMP_MARKER) + r'(?P<pid>\d+)-[0-9a-f]+$')
#: Checkpoint file names the resume fallback considers, newest = largest number.
_CHECKPOINT_NAME = re.compile(r'^(epoch|iter)_(\d+)\.pth$')
#: Longest ``last_checkpoint`` read as a path (bytes); longer files are not pointers.
_POINTER_MAX_BYTES = 4096
_patched = False


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


class CheckpointFileError(ValueError):
    """A checkpoint file is empty, truncated or not a torch checkpoint (the message names it)."""


#: How a file written by ``torch.save`` starts: a zip archive (torch >= 1.6) or the legacy
#: format's pickled magic number 0x1950a86a20f9469cfc6c (protocol 2, 10-byte LONG1).
_TORCH_ZIP_SIGNATURE = b'PK\x03\x04'
_TORCH_LEGACY_SIGNATURE = b'\x80\x02\x8a\x0a' + (0x1950a86a20f9469cfc6c).to_bytes(10, 'little')
#: How torch's (and :func:`_history_buffer_getattr`'s) weights-only refusals of a global read.
_REFUSED_GLOBAL = re.compile(r'GLOBAL|getattr\(.*\) is not allowed')
#: Signatures of files people pass by mistake, for the "not a torch checkpoint" message.
_KNOWN_SIGNATURES = ((b'\x89PNG', 'a PNG image'), (b'\xff\xd8\xff', 'a JPEG image'),
                     (b'\x1f\x8b', 'a gzip archive'), (b'\x93NUMPY', 'a NumPy .npy array'),
                     (b'\x80', 'a plain pickle (not written by torch.save)'))


def _not_torch_checkpoint(filename: str) -> Optional[str]:
    """What ``filename`` is when it does not start like a ``torch.save`` file, else None."""
    with open(filename, 'rb') as f:
        head = f.read(len(_TORCH_LEGACY_SIGNATURE))
    if head.startswith(_TORCH_ZIP_SIGNATURE) or head == _TORCH_LEGACY_SIGNATURE:
        return None
    for signature, what in _KNOWN_SIGNATURES:
        if head.startswith(signature):
            return what
    try:
        head.decode('utf-8')
    except UnicodeDecodeError:
        return f'a file starting with the bytes {head[:8].hex(" ")}'
    return 'a text file'


def load_checkpoint_file(filename: str, map_location: Optional[Any] = None) -> Dict[str, Any]:
    """Load a local checkpoint with weights-only unpickling plus MMEngine's own globals.

    Args:
        filename: Path of the ``.pth`` file.
        map_location: Passed to :func:`torch.load`.

    Returns:
        The loaded dict (usually with ``state_dict``, ``meta``, ``message_hub``...).

    Raises:
        FileNotFoundError: When ``filename`` does not exist.
        CheckpointFileError: When the file is empty, truncated, not a torch checkpoint (an
            image, text, a plain pickle...) or holds something else than a dict (a bare
            tensor, a list).
        pickle.UnpicklingError: When a torch checkpoint holds a global outside the
            allow-list; the message names the global and how to opt out for trusted files.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint {filename} can not be found')
    size = osp.getsize(filename)
    if size == 0:
        raise CheckpointFileError(f'checkpoint {filename} is empty (0 bytes): an interrupted '
                                  'save or copy; use another checkpoint')
    what = _not_torch_checkpoint(filename)
    if what is not None:
        raise CheckpointFileError(f'{filename} is not a torch checkpoint: it is {what}')
    trusted = os.environ.get(TRUST_ENV) == '1'
    try:
        if trusted:
            loaded = torch.load(filename, map_location=map_location, weights_only=False)
        else:
            with torch.serialization.safe_globals(MMENGINE_CHECKPOINT_GLOBALS):
                loaded = torch.load(filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        if trusted or not _REFUSED_GLOBAL.search(str(err)):
            raise CheckpointFileError(f'checkpoint {filename} ({size} bytes) is truncated or '
                                      f'corrupt ({str(err)[-300:].strip()})') from None
        raise pickle.UnpicklingError(
            f'refused to load checkpoint {filename}: it holds objects outside the safe '
            f'allow-list of MMEngine checkpoints ({err}). If you trust this file, set '
            f'{TRUST_ENV}=1 to load it with full pickle.') from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, ValueError, KeyError,
            IndexError) as err:
        raise CheckpointFileError(
            f'checkpoint {filename} ({size} bytes) is truncated or not a torch '
            f'checkpoint ({type(err).__name__}: {str(err)[:200]})') from None
    if not isinstance(loaded, dict):
        raise CheckpointFileError(f'{filename} is not a checkpoint: it holds a '
                                  f'{type(loaded).__name__}, not a dict of weights')
    return loaded


#: Fraction of the model's weights a checkpoint must provide (with the same shape), and of
#: the checkpoint's weights the model must use, for :func:`check_checkpoint_fits`.
MIN_CHECKPOINT_MATCH = 0.5
#: Differing keys named in :func:`check_checkpoint_fits`'s message, per kind.
_KEYS_SHOWN = 5


def check_checkpoint_fits(model: torch.nn.Module, filename: str,
                          checkpoint: Optional[Dict[str, Any]] = None) -> None:
    """Refuse a checkpoint written for another model (most keys missing or unexpected).

    MMEngine's ``load_checkpoint`` only warns about missing keys and then runs on random
    weights; call this before it. Keys are compared after stripping a DDP ``module.``
    prefix, as MMEngine does; a key with another shape counts as missing.

    Args:
        model: The model about to receive the weights (before BatchNorm folding).
        filename: Checkpoint path, for loading (when ``checkpoint`` is None) and messages.
        checkpoint: The already loaded checkpoint, to avoid reading the file twice.

    Raises:
        CheckpointFileError: When fewer than :data:`MIN_CHECKPOINT_MATCH` of the model's
            weights, or of the checkpoint's, match; the message names the file, the model
            class and the first keys that differ on both sides.
    """
    if checkpoint is None:
        checkpoint = load_checkpoint_file(filename, map_location='cpu')
    weights = checkpoint.get('state_dict', checkpoint)
    if not isinstance(weights, dict):
        raise CheckpointFileError(f'{filename}: its state_dict is a {type(weights).__name__}, '
                                  'not a dict of weights')
    weights = {re.sub(r'^module\.', '', str(k)): v for k, v in weights.items()}
    wanted = model.state_dict()
    matched = [k for k, v in wanted.items()
               if k in weights and getattr(weights[k], 'shape', None) == v.shape]
    matched_set = set(matched)
    missing = [k for k in wanted if k not in matched_set]
    unexpected = [k for k in weights if k not in wanted]
    if (len(matched) >= MIN_CHECKPOINT_MATCH * len(wanted)
            and len(matched) >= MIN_CHECKPOINT_MATCH * len(weights)):
        return
    raise CheckpointFileError(
        f'checkpoint {filename} does not fit {type(model).__name__}: {len(matched)} of its '
        f'{len(wanted)} weights match; missing or of another shape: {len(missing)} (first '
        f'{missing[:_KEYS_SHOWN]}), unexpected: {len(unexpected)} (first '
        f'{unexpected[:_KEYS_SHOWN]}). Is it a checkpoint of another model (e.g. the '
        'detector)?')


def _mmengine_local_loader(filename: str, map_location: Optional[Any] = None) -> Any:
    return load_checkpoint_file(filename, map_location)


def fsync_folder(folder: str) -> None:
    """Flush a folder's entries (a rename inside it) to disk; a no-op where unsupported."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file, fsync, rename, folder fsync).

    The temporary file ``.<name>.tmp-<pid>-<hex>`` sits next to the target, is created with
    mode ``0o666`` minus the umask (as a plain ``open`` would) and is removed on failure;
    :func:`sweep_stale_temporary_files` removes those a killed process left.

    Args:
        data: Bytes to write.
        filepath: Target path; its folder is created when missing.

    Raises:
        OSError: With the target path in the message (e.g. no space left on device).
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    mmengine.mkdir_or_exist(folder)
    tmp_path = osp.join(folder, f'.{osp.basename(filepath)}{TMP_MARKER}{os.getpid()}-'
                        f'{uuid.uuid4().hex[:8]}')
    try:
        fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
        fsync_folder(folder)
    except BaseException as err:
        if osp.exists(tmp_path):
            os.remove(tmp_path)
        if isinstance(err, OSError) and err.filename is None:
            what = ('no space left on device' if err.errno == errno.ENOSPC
                    else err.strerror or str(err))
            raise OSError(err.errno, f'cannot write {filepath}: {what} ({len(data)} bytes)',
                          filepath) from err
        raise


def sweep_stale_temporary_files(folder: str) -> List[str]:
    """Remove the temporary files of :func:`atomic_write_bytes` whose writer is not running.

    Args:
        folder: Folder to sweep (e.g. a work dir); missing folders are fine.

    Returns:
        The removed paths (each is logged).
    """
    removed = []
    for path in glob.glob(osp.join(folder, '.*' + TMP_MARKER + '*')):
        match = _TMP_NAME.match(osp.basename(path))
        if match is None or pid_alive(int(match['pid'])):
            continue
        try:
            os.remove(path)
        except OSError:
            continue
        removed.append(path)
        print_log(f'removed {path}, a temporary file left by an interrupted save',
                  logger='current')
    return removed


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (the current one counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """MMEngine's local storage backend whose writes are atomic (:func:`atomic_write_bytes`)."""

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write_bytes(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), filepath)


def apply_mmengine_patches() -> None:
    """Apply the one patch of MMEngine this project needs (idempotent, version-gated).

    torch >= 2.6 (:data:`TORCH_WEIGHTS_ONLY_DEFAULT`): MMEngine's local checkpoint loader
    becomes :func:`load_checkpoint_file` (weights-only with MMEngine's own globals, clear errors
    for empty or truncated files), so ``resume`` and ``load_from`` work under safe loading.
    Older torch loads with full pickle by default and gets no patch.
    """
    global _patched
    if _patched:
        return
    _patched = True
    if digit_version(torch.__version__) >= digit_version(TORCH_WEIGHTS_ONLY_DEFAULT):
        CheckpointLoader.register_scheme(prefixes='', loader=_mmengine_local_loader, force=True)


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` (without a path) continues from.

    ``work_dir/last_checkpoint`` when it names a loadable file; otherwise (empty, missing, or
    naming a missing/broken file) the newest loadable ``epoch_*.pth`` / ``iter_*.pth`` of the
    work dir, with a warning.

    Args:
        work_dir: The training work dir.

    Returns:
        The checkpoint path, or None when the work dir holds none (train from scratch).
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    named, state = None, 'is missing'
    if osp.isfile(pointer):
        with open(pointer, 'rb') as f:
            raw = f.read(_POINTER_MAX_BYTES + 1)
        try:
            named = raw.decode('utf-8').strip() or None
            state = 'is empty' if named is None else f'names the missing file {named}'
        except UnicodeDecodeError:
            state = 'is not a text file naming a checkpoint'
        if len(raw) > _POINTER_MAX_BYTES:
            named, state = None, f'is longer than {_POINTER_MAX_BYTES} bytes, not a path'
        if named is not None and osp.isfile(named):
            try:
                load_checkpoint_file(named, map_location='cpu')
                return named
            except (CheckpointFileError, pickle.UnpicklingError) as err:
                state = f'names a file that does not load ({err})'
    candidates = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = _CHECKPOINT_NAME.match(osp.basename(path))
        if match:
            candidates.append((int(match.group(2)), match.group(1) == 'iter', path))
    for _, _, path in sorted(candidates, reverse=True):
        try:
            load_checkpoint_file(path, map_location='cpu')
        except (CheckpointFileError, pickle.UnpicklingError) as err:
            print_log(f'--resume: skipping {path}: {err}', logger='current', level=30)
            continue
        print_log(f'--resume: {pointer} {state}; resuming from {path}, the newest loadable '
                  'checkpoint of the work dir', logger='current', level=30)
        return path
    return None
