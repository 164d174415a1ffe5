"""Apply the runtime config's process settings (allocator, tensor sharing) inside the Runner."""
from typing import Dict, Optional, Union

from mmengine.config import Config
from mmengine.hooks import Hook

from mmhandobj.registry import HOOKS
from mmhandobj.utils.cpu_malloc import apply_malloc_config
from mmhandobj.utils.tensor_sharing import set_tensor_sharing_strategy


def apply_process_settings(cfg: Config) -> Dict[str, Union[bool, Optional[str]]]:
    """Apply the config's top-level ``malloc_retain_freed`` and ``tensor_sharing_strategy``.

    Both change the whole process (see :mod:`mmhandobj.utils.cpu_malloc` and
    :mod:`mmhandobj.utils.tensor_sharing`); neither changes a result. Called by
    :class:`ProcessSettingsHook` inside the Runner, and by the scripts that build no Runner
    (the demos, ``tools/analysis_tools/benchmark.py``).

    Args:
        cfg: A config; missing keys leave the process's defaults.

    Returns:
        ``{'malloc_retain_freed': bool, 'tensor_sharing_strategy': str or None}``: what is now
        in force (``None``: PyTorch's default left alone).

    Raises:
        ValueError: A value of the wrong type or an unknown strategy (the message names the
            config file and key).
    """
    return dict(malloc_retain_freed=apply_malloc_config(cfg),
                tensor_sharing_strategy=set_tensor_sharing_strategy(cfg))


@HOOKS.register_module()
class ProcessSettingsHook(Hook):
    """Apply the runner config's ``malloc_retain_freed`` and ``tensor_sharing_strategy``.

    Listed in ``custom_hooks`` of ``configs/_base_/default_runtime.py``, so every run of an
    mmhandobj config gets them, ``Runner.from_cfg(cfg).train()`` from one's own script included.
    Applied in ``before_run``: after the model is built and before any dataloader starts its
    workers (which inherit both settings) or a checkpoint is loaded.
    """

    priority = 'HIGHEST'

    def before_run(self, runner) -> None:
        applied = apply_process_settings(runner.cfg)
        runner.logger.info('process settings: ' +
                           ', '.join(f'{key}={value}' for key, value in applied.items()))
