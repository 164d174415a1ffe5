"""HO3D-layout synthetic world for the quick start (generated on first use)."""
import glob
import os
import os.path as osp
import shutil
import tempfile

from mmengine.logging import print_log

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.converters.ho3d import HO3D_SPLITS, convert_ho3d
from mmhandobj.registry import DATASETS
from mmhandobj.utils.pid_lock import PidLock

from .world import WORLD_VERSION, make_synthetic_world, read_world_summary


def _check_existing_world(data_root: str, num_frames: int, seed: int, version: str) -> None:
    """Refuse a world at ``data_root`` made with other arguments or an older generator.

    Raises:
        FileExistsError: Naming what differs, and how to regenerate.
    """
    try:
        summary = read_world_summary(data_root)
    except FileNotFoundError as err:
        raise FileExistsError(f'{err}; delete {data_root} to let SyntheticHO3DDataset '
                              'regenerate the synthetic world') from None
    found = dict(world_version=summary['world_version'], seed=summary.get('seed'),
                 num_frames=sum(summary.get('frames', {}).values()),
                 version=summary.get('version'))
    wanted = dict(world_version=WORLD_VERSION, seed=seed, num_frames=num_frames,
                  version=version)
    if found != wanted:
        differs = ', '.join(f'{k} {found[k]!r} (wanted {wanted[k]!r})'
                            for k in wanted if found[k] != wanted[k])
        raise FileExistsError(f'{data_root} holds a synthetic world that does not match the '
                              f'config: {differs}. Delete the folder to regenerate it, or '
                              'point data_root elsewhere.')


def _sweep_interrupted(data_root: str) -> None:
    """Remove ``<data_root>.tmp*`` (folders, their ``.lock`` and ``.tmp-<pid>`` siblings).

    Only :func:`ensure_synthetic_ho3d` creates these names, and only while holding the lock
    ``<data_root>.lock``, so a caller holding that lock knows every such entry was left by an
    interrupted generation.
    """
    for path in glob.glob(glob.escape(data_root) + '.tmp*'):
        if osp.isdir(path) and not osp.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.remove(path)
            except OSError:
                continue
        print_log(f'removed {path}, left by an interrupted synthetic world generation',
                  logger='current')


def ensure_synthetic_ho3d(data_root: str, num_frames: int, seed: int, version: str,
                          workers: int = 1) -> None:
    """Make sure ``data_root`` holds a converted synthetic HO3D world.

    The world (``make_synthetic_world('ho3d', ...)``) and its annotation files
    (``annotations/ho3d_<version>_{train,evaluation}.npz``) are built in a temporary sibling
    folder ``<data_root>.tmp*`` and moved into place with one ``os.replace``, under the lock
    ``<data_root>.lock`` (:class:`~mmhandobj.utils.PidLock`): concurrent callers (DDP ranks)
    wait for the first one and then use its world, and the leftovers of a generation that was
    killed (its temporary folder and that folder's own lock and ``.tmp-<pid>`` siblings) are
    removed by the next caller. An existing world is used only when it was made with these
    arguments by the current generator (:data:`~mmhandobj.synthetic.WORLD_VERSION`).

    Args:
        data_root: Target folder.
        num_frames: Frames of the generated world.
        seed: Random seed of the world.
        version: ``'v2'`` or ``'v3'``.
        workers: Processes rendering the world's sequences (the world does not depend on it).

    Raises:
        FileExistsError: If ``data_root`` holds something else than that world.
    """
    ann_files = [osp.join(data_root, 'annotations', f'ho3d_{version}_{split}.npz')
                 for split in HO3D_SPLITS]
    if all(osp.isfile(f) for f in ann_files):
        _check_existing_world(data_root, num_frames, seed, version)
        return
    data_root = osp.abspath(data_root)
    parent = osp.dirname(data_root)
    os.makedirs(parent, exist_ok=True)
    with PidLock(data_root + '.lock', f'synthetic world {data_root}').acquire(wait=True):
        if all(osp.isfile(f) for f in ann_files):  # made by a caller we waited for
            _check_existing_world(data_root, num_frames, seed, version)
            return
        if osp.exists(data_root):
            raise FileExistsError(f'{data_root} exists but lacks {ann_files}; delete it to '
                                  'let SyntheticHO3DDataset regenerate the synthetic world')
        _sweep_interrupted(data_root)
        tmp = tempfile.mkdtemp(prefix=osp.basename(data_root) + '.tmp', dir=parent)
        try:
            print_log(f'generating the synthetic HO3D world ({num_frames} frames) in '
                      f'{data_root}', logger='current')
            make_synthetic_world('ho3d', tmp, num_frames, seed=seed, version=version,
                                 workers=workers)
            for split in HO3D_SPLITS:
                convert_ho3d(tmp, osp.join(tmp, 'annotations', f'ho3d_{version}_{split}.npz'),
                             split, version)
            os.replace(tmp, data_root)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            if osp.exists(tmp + '.lock'):  # make_synthetic_world's lock file of ``tmp``
                os.remove(tmp + '.lock')


@DATASETS.register_module()
class SyntheticHO3DDataset(HO3DDataset):
    """:class:`HO3DDataset` on a generated world in the HO3D layout (quick start).

    On ``full_init`` the world is generated and converted at ``data_root`` when missing (see
    :func:`ensure_synthetic_ho3d`), then loaded exactly like HO3D. Object models are at
    ``<data_root>/models``.

    Args:
        data_root: World folder.
        num_frames: Frames to generate when the world is missing.
        seed: Random seed of the world.
        gen_workers: Processes rendering the world when it is generated (the world does not
            depend on it).
        **kwargs: See :class:`HO3DDataset`.
    """

    def __init__(self, data_root: str = 'data/synthetic/ho3d', num_frames: int = 256,
                 seed: int = 0, gen_workers: int = 1, **kwargs) -> None:
        self.num_frames = num_frames
        self.seed = seed
        self.gen_workers = gen_workers
        super().__init__(data_root=data_root, **kwargs)

    def full_init(self) -> None:
        if not self._fully_initialized:
            ensure_synthetic_ho3d(self.data_root, self.num_frames, self.seed, self.version,
                                  self.gen_workers)
        super().full_init()
