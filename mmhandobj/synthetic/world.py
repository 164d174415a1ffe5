"""Public entry of the synthetic hand-object world.

A world is written into ``<out_dir>.tmp-<pid>`` and moved to ``out_dir`` with one
``os.replace`` once complete, while the lock file ``<out_dir>.lock`` keeps other generations
out (temporary folders of killed generations are removed on the next run); the last file
written before the move is the marker ``<out_dir>/.complete`` (JSON summary). So a folder at
``out_dir`` is either a complete world or was not made here; check :func:`is_complete_world`
before reading one.
"""
import glob
import json
import os
import shutil
from typing import Dict

from mmengine.logging import print_log

from mmhandobj.utils.pid_lock import PidLock, PidLockError

from .dexycb_writer import DexYCBWriter
from .hands import write_mano_files
from .ho3d_writer import HO3DWriter

#: Marker file written last inside a complete world (holds the JSON summary).
COMPLETE_MARKER = '.complete'
#: Version of the generator's output, stored in the summary as ``world_version``. It changes
#: whenever the same arguments start giving a different world (2: HO3D layout with a narrower
#: palm range, equally likely grasps and mustard-first sequence order; 3: HO3D hand poses drawn
#: around four visibly distinct grasp prototypes with less noise, so that the fingers carry
#: information a model can read at the quick start's resolution; DexYCB unchanged in both);
#: worlds written before it existed count as 1.
WORLD_VERSION = 3
#: Suffix of the folder a world is rendered into, followed by the generating process id.
TMP_SUFFIX = '.tmp-'


def is_complete_world(out_dir: str) -> bool:
    """True when ``out_dir`` holds a world that :func:`make_synthetic_world` finished."""
    return os.path.isfile(os.path.join(out_dir, COMPLETE_MARKER))


def read_world_summary(out_dir: str) -> Dict:
    """The summary a complete world stores in its marker (``world_version`` 1 when absent).

    Raises:
        FileNotFoundError: If ``out_dir`` is not a complete world.
    """
    marker = os.path.join(out_dir, COMPLETE_MARKER)
    if not os.path.isfile(marker):
        raise FileNotFoundError(f'{out_dir} is not a complete synthetic world (no {marker})')
    with open(marker) as f:
        summary = json.load(f)
    summary.setdefault('world_version', 1)
    return summary


def _sweep_killed_generations(out_dir: str) -> None:
    """Remove the temporary folders ``<out_dir>.tmp-<pid>`` of generations that were killed.

    Called with the lock ``<out_dir>.lock`` held, so no other generation is writing one.
    """
    for path in glob.glob(glob.escape(out_dir) + TMP_SUFFIX + '*'):
        if path[len(out_dir) + len(TMP_SUFFIX):].isdigit():
            shutil.rmtree(path, ignore_errors=True)
            print_log(f'removed {path}, left by a killed world generation', logger='current')


def _write_world(fmt: str, out_dir: str, num_frames: int, seed: int, version: str,
                 strict: bool, workers: int) -> Dict:
    """Render into ``<out_dir>.tmp-<pid>``, then move it to ``out_dir`` (caller holds the lock)."""
    tmp_dir = f'{out_dir}{TMP_SUFFIX}{os.getpid()}'
    if os.path.exists(tmp_dir):
        shutil.rmtree(tmp_dir)
    os.makedirs(tmp_dir)
    try:
        mano_dir = os.path.join(tmp_dir, 'mano')
        write_mano_files(mano_dir)
        if fmt == 'ho3d':
            summary = HO3DWriter(tmp_dir, mano_dir, version, seed).write(num_frames, workers)
        else:
            summary = DexYCBWriter(tmp_dir, mano_dir, seed, strict).write(num_frames, workers)
        summary['world_version'] = WORLD_VERSION
        with open(os.path.join(tmp_dir, COMPLETE_MARKER), 'w') as f:
            json.dump(summary, f, indent=1)
        if os.path.isdir(out_dir):
            os.rmdir(out_dir)
        os.replace(tmp_dir, out_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return summary


def make_synthetic_world(fmt: str, out_dir: str, num_frames: int, seed: int = 0,
                         version: str = 'v2', strict: bool = False, workers: int = 1) -> Dict:
    """Generate a synthetic hand-object dataset in the HO3D or DexYCB on-disk layout.

    Besides the dataset files, ``out_dir`` receives ``models/<ycb name>/{points.xyz,
    textured_simple.obj}`` and the stand-in MANO files ``mano/MANO_RIGHT.pkl`` and
    ``mano/MANO_LEFT.pkl`` (seed 0; the same hand as ``ManoLayer(standin_seed=0)``).

    Args:
        fmt: ``'ho3d'`` or ``'dexycb'``.
        out_dir: Dataset root to create. It must not exist, or be an empty folder.
        num_frames: Annotated frames to render (HO3D: train + evaluation, at least 4;
            DexYCB: roughly the number of rendered camera images, at least 50 in relaxed mode).
        seed: Seed; the output is a deterministic function of all arguments.
        version: HO3D version ``'v2'`` (png rgb, float32 metas) or ``'v3'`` (jpg rgb, float64,
            v3-only meta keys). Ignored for DexYCB.
        strict: DexYCB only: 100 sequence folders per subject and 8 cameras, so that the
            unmodified dex-ycb-toolkit accepts the root; otherwise the relaxed 10 x 5 layout.
        workers: Processes rendering sequences in parallel (1: none). The output does not
            depend on it.

    Returns:
        Summary dict: ``format``, ``world_version``, ``seed``, ``frames`` (per split),
        ``sequences`` (per split) and format-specific entries; also stored in
        ``out_dir/.complete``.

    Raises:
        ValueError: On an unknown format or version, or too few frames.
        FileExistsError: If ``out_dir`` exists and is not empty, or another generation is
            writing it (the lock file ``<out_dir>.lock`` names its process).
    """
    if fmt not in ('ho3d', 'dexycb'):
        raise ValueError(f"fmt must be 'ho3d' or 'dexycb', got {fmt!r}")
    out_dir = os.path.abspath(out_dir)
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    try:
        lock = PidLock(f'{out_dir}.lock', f'synthetic world folder {out_dir}').acquire()
    except PidLockError as err:
        raise FileExistsError(f'another world generation is writing {out_dir}: {err}') from None
    try:
        _sweep_killed_generations(out_dir)
        if os.path.exists(out_dir) and (not os.path.isdir(out_dir) or os.listdir(out_dir)):
            raise FileExistsError(f'{out_dir} exists and is not an empty folder; remove it or '
                                  'choose another out_dir')
        summary = _write_world(fmt, out_dir, num_frames, seed, version, strict, workers)
    finally:
        lock.release()
    summary['root'] = out_dir
    return summary
