"""Apply the output-preserving inference speed-ups before the test loop runs."""
from typing import Any

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmhandobj.models.inference_optim import optimize_for_inference
from mmhandobj.registry import HOOKS


@HOOKS.register_module()
class OptimizeForInferenceHook(Hook):
    """Call :func:`~mmhandobj.models.inference_optim.optimize_for_inference` before testing.

    Runs in ``before_test``, i.e. after the runner has loaded the checkpoint; validation
    during training is left alone (folded BatchNorms could not be trained on).

    Args:
        fuse_bn (bool): Fold BatchNorms into convs.
        channels_last (bool): Channels-last weights (and so feature maps).
    """

    priority = 'VERY_HIGH'

    def __init__(self, fuse_bn: bool = True, channels_last: bool = True) -> None:
        self.fuse_bn = fuse_bn
        self.channels_last = channels_last

    def before_test(self, runner: Any) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        optimize_for_inference(model, fuse_bn=self.fuse_bn, channels_last=self.channels_last)
