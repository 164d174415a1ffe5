"""Dataloader worker seeding that changes every epoch and that ``--resume`` reproduces.

MMEngine's default ``worker_init_fn`` seeds worker ``k`` with ``seed + k`` (plus a rank
offset) every time a worker starts. Without persistent workers, every epoch then replays the
same random draws (only the sample order changes); with persistent workers, a resumed run
restarts the workers' generators from epoch 1's state. Either way the augmentations of a
resumed run differ from those of the uninterrupted run.

:func:`epoch_worker_init_fn` derives the NumPy, Python and torch seeds of a worker from
``torch.initial_seed()``, which PyTorch sets in each worker to a base seed drawn from the main
process's torch generator when the epoch's iterator is created (plus the worker id), and from
the distributed rank. With ``persistent_workers=False`` the draws therefore change every epoch,
differ between ranks, and follow the main generator, which ``RNGStateHook`` stores in
checkpoints: a resumed run sees exactly the augmentations of the uninterrupted one.
"""
import random

import numpy as np
import torch
from mmengine.dist import get_rank

from mmhandobj.registry import FUNCTIONS


@FUNCTIONS.register_module()
def epoch_worker_init_fn(worker_id: int) -> None:
    """Seed NumPy, ``random`` and torch in a dataloader worker (``worker_init_fn``).

    Use it as ``train_dataloader = dict(..., persistent_workers=False,
    worker_init_fn=dict(type='mmhandobj.epoch_worker_init_fn'))``.

    Args:
        worker_id (int): Worker index in ``[0, num_workers)``; already part of
            ``torch.initial_seed()`` in the worker.
    """
    del worker_id  # torch.initial_seed() already differs between the workers of an epoch
    numpy_seed, python_seed, torch_seed = np.random.SeedSequence(
        [torch.initial_seed(), get_rank()]).generate_state(3)
    np.random.seed(int(numpy_seed))
    random.seed(int(python_seed))
    torch.manual_seed(int(torch_seed))
