"""Keep freed tensor memory inside the process (``malloc_retain_freed``): no page faults a step.

PyTorch's CPU tensors come from the C library's ``malloc``. glibc serves every block above its
mmap threshold (128 KiB at start, adapting up to 32 MiB) with a fresh ``mmap`` and gives it
back to the kernel on ``free``, so the next step's activations and gradients of the same size
are page-faulted in again, 4 KiB at a time, and zero-filled by the kernel. An HFL-Net R50
training step at batch 8 (256x256, 2 CPU cores) took 0.6-1.0 million minor page faults
(2.5-4 GB) and 1-3.6 s of system time out of 13-14 s; with the freed memory kept, 2 faults and
0.02 s. ``benchmark.py`` with and without (``--malloc-default``), back to back: training step
0.72 / 0.67 images/s, inference 2.62 / 2.53 (2.55 / 2.17 in a process that had not trained
first). ``benchmark_mano.py`` forward+backward at batch 64: 6.8-9.3 ms / 11.6-13.1 ms.

:func:`retain_freed_memory` sets three ``mallopt`` parameters of the running process:
``M_MMAP_MAX = 0`` (large blocks come from the heap, not from ``mmap``), ``M_TRIM_THRESHOLD``
to 2 GiB (freed memory at the top of the heap is not returned until that much is free) and
``M_TOP_PAD`` to 64 MiB (the heap grows in large steps). The price: the process keeps its peak
memory (as a caching allocator would), plus fragmentation the allocator cannot return. The
computation and its results are unchanged; only where the bytes come from.

Only glibc has these parameters; elsewhere (musl, macOS, Windows) the call logs that it
skipped and changes nothing. Forked workers (dataloaders) inherit the setting.
"""
import ctypes
import logging
from typing import Optional

from mmengine.config import Config

#: Config key read by :func:`apply_malloc_config` (set in ``_base_/default_runtime.py``).
CONFIG_KEY = 'malloc_retain_freed'

# glibc <malloc.h> parameter numbers.
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_MAX = -4

#: Free memory at the top of the heap that glibc may keep before trimming (bytes; int limit).
TRIM_THRESHOLD_BYTES = 2**31 - 1
#: Extra bytes requested from the kernel each time the heap grows.
TOP_PAD_BYTES = 64 * 2**20

logger = logging.getLogger(__name__)


def _glibc() -> Optional[ctypes.CDLL]:
    """The process's C library when it is glibc (has ``mallopt``), else ``None``."""
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    except (OSError, AttributeError):
        return None
    return libc


def retain_freed_memory() -> bool:
    """Make glibc keep freed blocks of this process for reuse (see the module docstring).

    Returns:
        ``True`` when all three parameters were set; ``False`` (logged) when the C library is
        not glibc or refused a value.
    """
    libc = _glibc()
    if libc is None:
        logger.warning('%s: the C library is not glibc; the allocator is left as it is',
                       CONFIG_KEY)
        return False
    for param, value in ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES),
                         (_M_TOP_PAD, TOP_PAD_BYTES)):
        if libc.mallopt(param, value) != 1:
            logger.warning('%s: glibc refused mallopt(%d, %d); the allocator is left as it is',
                           CONFIG_KEY, param, value)
            return False
    return True


def apply_malloc_config(cfg: Config) -> bool:
    """Apply ``cfg.malloc_retain_freed`` to this process.

    Called through :func:`mmhandobj.engine.apply_process_settings`: by
    :class:`~mmhandobj.engine.ProcessSettingsHook` at the start of every Runner run, and by the
    demos and ``tools/analysis_tools/benchmark.py`` (the library's ``init_model`` leaves the
    process allocator alone).

    Args:
        cfg: The tool's config. A missing key, ``False`` or ``None`` leave glibc's defaults.

    Returns:
        Whether freed memory is now retained.

    Raises:
        ValueError: The value is not a bool or ``None``.
    """
    value = cfg.get(CONFIG_KEY)
    if value is not None and not isinstance(value, bool):
        raise ValueError(f'{cfg.filename}: {CONFIG_KEY}={value!r}; expected True, False or None')
    return retain_freed_memory() if value else False
