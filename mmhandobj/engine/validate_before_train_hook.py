"""Score the untrained model once before training starts."""
from typing import Any

from mmengine.hooks import Hook

from mmhandobj.registry import HOOKS


@HOOKS.register_module()
class ValidateBeforeTrainHook(Hook):
    """Run the validation loop once before the first training epoch.

    The log then shows the metrics of the untrained (or freshly initialised / loaded) model as
    ``Epoch(val) [0]`` next to those of the trained one, which makes learning visible. Skipped
    when a run is resumed.
    """

    priority = 'LOWEST'

    def before_train(self, runner: Any) -> None:
        if runner.val_loop is None or runner.epoch > 0 or runner.iter > 0:
            return
        runner.val_loop.run()
