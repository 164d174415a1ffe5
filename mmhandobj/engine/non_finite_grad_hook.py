"""Stop training at the first step whose gradients are not finite, naming the modules."""
import math
from collections import OrderedDict
from typing import Any, Dict, List

import torch
from mmengine.hooks import Hook
from mmengine.logging import MessageHub, print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import AmpOptimWrapper, OptimWrapper, OptimWrapperDict

from mmhandobj.registry import HOOKS

#: Modules named in the message besides the non-finite ones (largest gradient norms first).
_LARGEST_SHOWN = 5


def module_grad_norms(model: torch.nn.Module, depth: int) -> Dict[str, torch.Tensor]:
    """L2 norm of the gradients of each module, grouped by the first ``depth`` parts of its path.

    Args:
        model: The (unwrapped) model after ``backward``.
        depth: Module-path components that form a group (2: ``'obj_to_hand_fusion.attn'``).

    Returns:
        Group name -> 0-d tensor (on the parameters' device), in parameter order; parameters
        without a gradient are left out.
    """
    groups: Dict[str, List[torch.Tensor]] = OrderedDict()
    for name, param in model.named_parameters():
        if param.grad is not None:
            module = name.split('.')[:-1] or [name]  # the parameter's module path
            key = '.'.join(module[:depth])
            groups.setdefault(key, []).append(torch.linalg.vector_norm(param.grad.detach()))
    return {key: torch.linalg.vector_norm(torch.stack(norms)) for key, norms in groups.items()}


@HOOKS.register_module()
class NonFiniteGradHook(Hook):
    """Raise ``FloatingPointError`` before an optimizer step with NaN/inf gradients.

    A finite loss can still give an infinite gradient (an attention logit that overflows in
    the backward pass); the step would then write NaN into the weights and every later loss
    is NaN, far from the cause. Before each step this hook computes the gradient norm of each
    module (module paths cut to ``depth`` parts) and, when one is not finite, stops naming
    those modules (in parameter order; modules upstream of the one that blew up inherit its
    non-finite gradient), the largest finite norms, and the epoch and iteration (1-based). One
    host-device sync per step. AMP optimizer wrappers are left alone (their loss scaler skips
    such steps by design).

    Args:
        depth: Module-path components that form a group.
    """

    priority = 'HIGHEST'

    def __init__(self, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f'depth must be >= 1, got {depth}')
        self.depth = depth

    def before_train(self, runner: Any) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        wrappers = (list(runner.optim_wrapper.values())
                    if isinstance(runner.optim_wrapper, OptimWrapperDict)
                    else [runner.optim_wrapper])
        for wrapper in wrappers:
            if isinstance(wrapper, AmpOptimWrapper):
                print_log('NonFiniteGradHook: AMP optimizer wrapper, gradients not checked',
                          logger='current')
            elif isinstance(wrapper, OptimWrapper):
                self._wrap_step(wrapper, model)

    def _wrap_step(self, wrapper: OptimWrapper, model: torch.nn.Module) -> None:
        step = wrapper.step

        def checked_step(**kwargs) -> None:
            self.check(model)
            step(**kwargs)

        wrapper.step = checked_step

    def check(self, model: torch.nn.Module) -> None:
        """Raise ``FloatingPointError`` when a module's gradient norm is NaN or inf."""
        norms = module_grad_norms(model, self.depth)
        if not norms:
            return
        values = torch.stack(list(norms.values()))
        if bool(torch.isfinite(values).all()):
            return
        values = values.float().cpu().tolist()
        bad = [f'{key} ({value})' for key, value in zip(norms, values)
               if not math.isfinite(value)]
        finite = sorted(((value, key) for key, value in zip(norms, values)
                         if math.isfinite(value)), reverse=True)
        largest = ', '.join(f'{key} {value:.3g}' for value, key in finite[:_LARGEST_SHOWN])
        hub = MessageHub.get_current_instance()
        epoch, step = hub.get_info('epoch'), hub.get_info('iter')
        where = '' if epoch is None or step is None else (
            f' at epoch {epoch + 1}, iteration {step + 1}')
        raise FloatingPointError(
            f'non-finite gradient norm{where} in {", ".join(bad)}; largest finite module '
            f'gradient norms: {largest or "none"}. The step was not applied; lower the '
            'learning rate of these modules or clip their gradients.')
