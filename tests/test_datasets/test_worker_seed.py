"""epoch_worker_init_fn: worker draws change every epoch, differ by rank and follow torch's RNG.

Real two-worker DataLoaders; the dataset returns ``np.random`` draws, i.e. what an
augmentation transform would draw in that worker.
"""
import random
from functools import partial
from unittest import mock

import numpy as np
import pytest
import torch
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from torch.utils.data import DataLoader, Dataset

from mmhandobj.datasets import epoch_worker_init_fn


class _DrawDataset(Dataset):
    """Item ``i`` -> ``(i, np.random.rand(), random-module draw)`` from the worker's generators."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int):
        return index, float(np.random.rand()), random.random()


def _epoch(loader: DataLoader) -> np.ndarray:
    """All items of one epoch sorted by index: (8, 3)."""
    rows = [np.array([int(i), float(a), float(b)])
            for batch in loader for i, a, b in zip(*batch)]
    return np.stack(sorted(rows, key=lambda r: r[0]))


def _loader(init_fn=epoch_worker_init_fn) -> DataLoader:
    return DataLoader(_DrawDataset(), batch_size=2, num_workers=2, shuffle=False,
                      persistent_workers=False, worker_init_fn=init_fn)


def test_runner_finds_it_by_its_config_name():
    # MMEngine's Runner looks worker_init_fn up in the root FUNCTIONS registry
    assert MMENGINE_FUNCTIONS.get('mmhandobj.epoch_worker_init_fn') is epoch_worker_init_fn


def test_draws_change_every_epoch_and_resume_replays_them():
    torch.manual_seed(0)
    loader = _loader()
    state_before_epoch2 = None
    epochs = []
    for epoch in range(3):
        if epoch == 1:
            state_before_epoch2 = torch.get_rng_state()
        epochs.append(_epoch(loader))
    # every item gets a new draw each epoch (MMEngine's default seeding would repeat them)
    assert not np.any(np.isclose(epochs[0][:, 1:], epochs[1][:, 1:]))
    assert not np.any(np.isclose(epochs[1][:, 1:], epochs[2][:, 1:]))
    # a "resumed" run: fresh loader, main torch generator restored as RNGStateHook does
    torch.manual_seed(123)
    torch.set_rng_state(state_before_epoch2)
    resumed = _loader()
    np.testing.assert_array_equal(_epoch(resumed), epochs[1])
    np.testing.assert_array_equal(_epoch(resumed), epochs[2])


def test_mmengine_default_seeding_repeats_draws():
    """The problem this function fixes: the default worker_init_fn replays every epoch."""
    from mmengine.dataset import worker_init_fn
    loader = _loader(partial(worker_init_fn, num_workers=2, rank=0, seed=0))
    np.testing.assert_array_equal(_epoch(loader), _epoch(loader))


@pytest.mark.parametrize('rank', [1, 3])
def test_ranks_draw_differently(rank):
    torch.manual_seed(0)
    rank0 = _epoch(_loader())
    torch.manual_seed(0)  # MMEngine seeds every rank's main process alike
    # the workers are forked, so they inherit the patched rank
    with mock.patch('mmhandobj.datasets.worker_seed.get_rank', return_value=rank):
        other = _epoch(_loader())
    assert not np.any(np.isclose(rank0[:, 1:], other[:, 1:]))
