"""MMEngine's checkpoint hook with every file it writes written atomically."""
import hashlib
import os.path as osp
import pickle
from typing import Optional

from mmengine.dist import is_main_process, master_only
from mmengine.hooks import CheckpointHook
from mmengine.logging import print_log
from mmengine.runner.checkpoint import _load_checkpoint, save_checkpoint

from mmhandobj.registry import HOOKS
from mmhandobj.utils.checkpoint import (
    ATOMIC_BACKEND,
    apply_mmengine_patches,
    atomic_write_bytes,
    sweep_stale_temporary_files,
)

#: File in the work dir that names the newest checkpoint (read by ``resume='auto'``).
LAST_CHECKPOINT_FILE = 'last_checkpoint'


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """:class:`mmengine.hooks.CheckpointHook` whose files are written atomically.

    Takes the same arguments and saves the same files (``epoch_N.pth`` / ``iter_N.pth``, best
    and published checkpoints, ``last_checkpoint``), but each one is written to a temporary file
    next to its target, flushed to disk, renamed over the target and its folder synced
    (:func:`~mmhandobj.utils.checkpoint.atomic_write_bytes`): a save interrupted by a kill or a
    full disk leaves the previous file intact, and a full disk raises an ``OSError`` that names
    the file. Checkpoints go through the storage backend
    :data:`~mmhandobj.utils.checkpoint.ATOMIC_BACKEND` unless ``backend_args`` /
    ``file_client_args`` choose another one or ``out_dir`` is a remote URI (``s3://...``); those
    writes are then the chosen backend's, and only ``last_checkpoint`` stays atomic.

    Before the run it also applies :func:`~mmhandobj.utils.apply_mmengine_patches` (safe
    weights-only loading of MMEngine checkpoints under torch >= 2.6, for ``resume`` and
    ``load_from``); before training it removes the temporary files a killed save left in the
    work dir and ``out_dir`` (main process only).

    Args:
        out_dir: Folder for the checkpoints (default: the runner's work dir), as in
            :class:`~mmengine.hooks.CheckpointHook`.
        backend_args: Storage backend arguments; ``None`` selects the atomic local backend.
        file_client_args: Deprecated MMEngine argument, passed on unchanged.
        **kwargs: Every other argument of :class:`~mmengine.hooks.CheckpointHook`
            (``interval``, ``by_epoch``, ``max_keep_ckpts``, ``save_best``, ...).
    """

    def __init__(self, out_dir: Optional[str] = None, backend_args: Optional[dict] = None,
                 file_client_args: Optional[dict] = None, **kwargs) -> None:
        remote = out_dir is not None and '://' in str(out_dir)
        if backend_args is None and file_client_args is None and not remote:
            backend_args = dict(backend=ATOMIC_BACKEND)
        super().__init__(out_dir=out_dir, backend_args=backend_args,
                         file_client_args=file_client_args, **kwargs)

    def before_run(self, runner) -> None:
        apply_mmengine_patches()

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if is_main_process():
            for folder in sorted({runner.work_dir, str(self.out_dir)}):
                if '://' not in folder:
                    sweep_stale_temporary_files(folder)

    def _remove_checkpoint(self, step: int) -> None:
        """Delete the checkpoint of ``step`` (a file, or a folder as DeepSpeed saves)."""
        path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(step))
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        """Save the checkpoint of ``step``, drop the oldest kept one, update ``last_checkpoint``.

        Args:
            runner: The runner.
            step: Epoch or iteration number (1-based) in the file name.
            meta: Extra ``meta`` for the checkpoint.
        """
        # A best-checkpoint save may call this a second time for the same step.
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                oldest = self.keep_ckpt_ids.popleft()
                if is_main_process():
                    self._remove_checkpoint(oldest)
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, filename, self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta, by_epoch=self.by_epoch,
            backend_args=self.backend_args, **self.args)
        # Sharded (model-parallel) saves run on every rank; the pointer is the main process's.
        if is_main_process():
            atomic_write_bytes(str(self.last_ckpt).encode('utf-8'),
                               osp.join(runner.work_dir, LAST_CHECKPOINT_FILE))

    @master_only
    def _publish_model(self, runner, ckpt_path: str) -> None:
        """Save ``ckpt_path`` with only ``published_keys`` as ``<name>-<sha256[:8]>.pth``."""
        checkpoint = _load_checkpoint(ckpt_path)
        dropped = [key for key in checkpoint if key not in self.published_keys]
        for key in dropped:
            checkpoint.pop(key)
        if dropped:
            print_log(f'publishing {ckpt_path} without {dropped} (not in published_keys)',
                      logger='current')
        digest = hashlib.sha256(pickle.dumps(checkpoint)).hexdigest()
        final_path = osp.splitext(ckpt_path)[0] + f'-{digest[:8]}.pth'
        save_checkpoint(checkpoint, final_path, backend_args=self.backend_args)
        print_log(f'published {ckpt_path} as {final_path}', logger='current')
