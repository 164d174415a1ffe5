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


def module_group(parameter_name: str, depth: int) -> str:
    """The first ``depth`` parts of a parameter's module path (``'obj_to_hand_fusion.layers'``)."""
    module = parameter_name.split('.')[:-1] or [parameter_name]
    return '.'.join(module[:depth])


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
            norm = torch.linalg.vector_norm(param.grad.detach())
            groups.setdefault(module_group(name, depth), []).append(norm)
    return {key: torch.linalg.vector_norm(torch.stack(norms)) for key, norms in groups.items()}


@HOOKS.register_module()
class NonFiniteGradHook(Hook):
    """Raise ``FloatingPointError`` before an optimizer step with NaN/inf gradients.

    A finite loss can still give an infinite gradient (an attention logit that overflows in
    the backward pass); the step would then write NaN into the weights and every later loss
    is NaN, far from the cause. Before each step this hook computes the gradient norm of each
    module (module paths cut to ``depth`` parts) and, when one is not finite, stops naming
    the module where the overflow started, every module with a non-finite gradient, the
    largest finite norms, and the epoch and iteration (1-based). Modules upstream of the one
    that blew up inherit its non-finite gradient, so the start is the non-finite module that
    the backward pass reaches first: the order in which the first step's backward pass
    accumulates each module's gradients is recorded once (gradient-accumulation hooks,
    removed after that step). One host-device sync per step. AMP optimizer wrappers are left
    alone (their loss scaler skips such steps by design).

    Args:
        depth: Module-path components that form a group.
    """

    priority = 'HIGHEST'

    def __init__(self, depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f'depth must be >= 1, got {depth}')
        self.depth = depth
        #: Module group -> position in the backward pass (0: reached first, next to the loss).
        self.backward_order: Dict[str, int] = {}
        self._order_handles: List[Any] = []

    def _record_backward_order(self, model: torch.nn.Module) -> None:
        """Note each module group the first time the next backward pass accumulates into it."""
        def note(group: str) -> None:
            self.backward_order.setdefault(group, len(self.backward_order))

        for name, param in model.named_parameters():
            if param.requires_grad:
                group = module_group(name, self.depth)
                self._order_handles.append(param.register_post_accumulate_grad_hook(
                    lambda _, group=group: note(group)))

    def before_train(self, runner: Any) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._record_backward_order(model)
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
        for handle in self._order_handles:  # the order is known after one backward pass
            handle.remove()
        self._order_handles = []
        norms = module_grad_norms(model, self.depth)
        if not norms:
            return
        values = torch.stack(list(norms.values()))
        if bool(torch.isfinite(values).all()):
            return
        values = values.float().cpu().tolist()
        bad = [f'{key} ({value})' for key, value in zip(norms, values)
               if not math.isfinite(value)]
        # the non-finite module the backward pass reaches first (unknown order: the last in
        # parameter order, usually the most downstream)
        started = min((key for key, value in zip(norms, values) if not math.isfinite(value)),
                      key=lambda key: (self.backward_order.get(key, math.inf),
                                       -list(norms).index(key)))
        finite = sorted(((value, key) for key, value in zip(norms, values)
                         if math.isfinite(value)), reverse=True)
        largest = ', '.join(f'{key} {value:.3g}' for value, key in finite[:_LARGEST_SHOWN])
        hub = MessageHub.get_current_instance()
        epoch, step = hub.get_info('epoch'), hub.get_info('iter')
        where = '' if epoch is None or step is None else (
            f' at epoch {epoch + 1}, iteration {step + 1}')
        raise FloatingPointError(
            f'non-finite gradient norm{where}, started in {started} (the first module of the '
            f'backward pass with one; upstream modules inherit it); non-finite in '
            f'{", ".join(bad)}; largest finite module gradient norms: {largest or "none"}. '
            f'The step was not applied; lower the learning rate of {started} or clip its '
            'gradients.')
