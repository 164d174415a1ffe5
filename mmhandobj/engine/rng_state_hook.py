"""Save and restore random-number-generator states with each checkpoint."""
import random
from typing import Any, Dict

import numpy as np
import torch
from mmengine.hooks import Hook

from mmhandobj.registry import HOOKS


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Store the Python, NumPy and torch RNG states in checkpoints and restore them on resume.

    Data augmentation draws from these generators, so without this hook a resumed run sees
    different augmentations than the uninterrupted run from the first resumed epoch on. With it,
    ``--resume`` continues exactly: the same samples, augmentations and losses (bit-identical on
    CPU with a fixed number of dataloader workers seeded by
    :func:`~mmhandobj.datasets.epoch_worker_init_fn`, without persistent workers).

    Validation during training also draws from the generators (the dataloader seeds its
    workers from torch's RNG), so the hook restores the training states after each validation:
    a run with a validation after epoch N continues exactly like one resumed from epoch N.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._states_before_val: Dict[str, Any] = {}

    @staticmethod
    def _capture() -> Dict[str, Any]:
        return dict(
            python=random.getstate(),
            numpy=np.random.get_state(),
            torch=torch.get_rng_state(),
            cuda=torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        )

    @staticmethod
    def _restore(states: Dict[str, Any]) -> None:
        random.setstate(states['python'])
        np.random.set_state(states['numpy'])
        torch.set_rng_state(states['torch'])
        if torch.cuda.is_available() and states['cuda']:
            torch.cuda.set_rng_state_all(states['cuda'])

    def before_save_checkpoint(self, runner: Any, checkpoint: Dict[str, Any]) -> None:
        checkpoint['rng_states'] = self._capture()

    def after_load_checkpoint(self, runner: Any, checkpoint: Dict[str, Any]) -> None:
        if runner._resume and 'rng_states' in checkpoint:
            self._restore(checkpoint['rng_states'])

    def before_val(self, runner: Any) -> None:
        self._states_before_val = self._capture()

    def after_val(self, runner: Any) -> None:
        if self._states_before_val:
            self._restore(self._states_before_val)
            self._states_before_val = {}
