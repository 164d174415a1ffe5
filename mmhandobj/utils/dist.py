"""Distributed set-up that works on CPU (gloo) as well as on GPU (nccl)."""
import datetime
import os

import torch
import torch.distributed as dist
from mmengine.config import Config


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` and the process group for the chosen launcher.

    MMEngine 0.10.7 calls ``torch.cuda.set_device`` unconditionally when it initialises a
    ``pytorch`` (torchrun) launcher and passes ``device_ids=[LOCAL_RANK]`` to DDP, which fails on
    machines without a GPU. On such machines this function initialises the gloo process group
    itself (MMEngine then skips its own initialisation) and sets ``device_ids=None`` for
    ``MMDistributedDataParallel``. With a GPU it only selects the nccl backend.

    The ``DIST_TIMEOUT`` environment variable (seconds, set by ``tools/dist_train.sh``) bounds
    how long a collective waits for a rank that died or stalls before the others fail.

    Args:
        cfg: The config to update in place (``env_cfg.dist_cfg``, ``model_wrapper_cfg``).
        launcher: ``'none'``, ``'pytorch'``, ``'slurm'`` or ``'mpi'``.
    """
    cfg.launcher = launcher
    if launcher == 'none':
        return
    timeout = int(os.environ['DIST_TIMEOUT']) if os.environ.get('DIST_TIMEOUT') else None
    if torch.cuda.is_available():
        dist_cfg = cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})
        dist_cfg['backend'] = 'nccl'
        if timeout is not None:
            dist_cfg['timeout'] = timeout
        return
    cfg.setdefault('env_cfg', {})['dist_cfg'] = dict(backend='gloo')
    if timeout is not None:
        cfg.env_cfg.dist_cfg['timeout'] = timeout
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    if launcher == 'pytorch' and not dist.is_initialized():
        if 'RANK' not in os.environ:
            raise RuntimeError('--launcher pytorch needs the RANK/WORLD_SIZE environment that '
                               'torchrun sets; use tools/dist_train.sh or torchrun')
        dist.init_process_group(
            backend='gloo',
            timeout=None if timeout is None else datetime.timedelta(seconds=timeout))
