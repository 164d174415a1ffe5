"""How dataloader workers hand their tensors to the main process (``tensor_sharing_strategy``).

The batches of every mmhandobj dataloader are lists of data samples (``pseudo_collate``), each
with about a dozen small tensors (image, boxes, 2D/3D targets, mask). PyTorch moves each tensor
storage through shared memory; under its Linux default, ``'file_descriptor'``, the main process
fetches every storage's descriptor over a new socket connection, about 0.6 ms a storage: in a
quick-start epoch (``configs/hfl/hfl_r18_synthetic.py``, 69 batches of 8, 2 CPU cores) 5.3 s
of 37 s went to unpickling the batches. ``'file_system'`` passes the shared-memory file's name
instead; the same epoch ran 0.46 instead of 0.55 s an iteration, and the workers' share of
the CPU shrinks too. The data are the same either way, so results do not change.

``'file_system'`` leaves shared-memory files behind only when a process is killed before
PyTorch's ``torch_shm_manager`` cleans up; set ``tensor_sharing_strategy = None`` in a config
to keep PyTorch's default.
"""
from typing import Optional

import torch.multiprocessing as torch_mp
from mmengine.config import Config

#: Config key read by :func:`set_tensor_sharing_strategy` (set in ``_base_/default_runtime.py``).
CONFIG_KEY = 'tensor_sharing_strategy'


def set_tensor_sharing_strategy(cfg: Config) -> Optional[str]:
    """Apply ``cfg.tensor_sharing_strategy`` to :mod:`torch.multiprocessing` (whole process).

    Called through :func:`mmhandobj.engine.apply_process_settings`, by
    :class:`~mmhandobj.engine.ProcessSettingsHook` before the dataloaders start their workers
    (forked workers inherit the setting).

    Args:
        cfg: The tool's config. A missing key or ``None`` leaves PyTorch's default.

    Returns:
        The strategy now in force, or ``None`` when the config left it alone.

    Raises:
        ValueError: The value is not one of ``torch.multiprocessing.get_all_sharing_strategies()``.
    """
    strategy = cfg.get(CONFIG_KEY)
    if strategy is None:
        return None
    available = sorted(torch_mp.get_all_sharing_strategies())
    if strategy not in available:
        raise ValueError(f'{cfg.filename}: {CONFIG_KEY}={strategy!r} is not a sharing strategy '
                         f'of this PyTorch; expected one of {available} or None')
    torch_mp.set_sharing_strategy(strategy)
    return strategy
