"""A finite loss with an infinite gradient stops before the step, naming the modules."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn

from mmhandobj.engine import NonFiniteGradHook
from tests.test_utils.test_pid_lock import CONFIG


class _BlowUp(torch.autograd.Function):
    """Identity forward; its backward multiplies the gradient by ``scale``."""

    @staticmethod
    def forward(ctx, x, scale):
        ctx.scale = scale
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.scale, None


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Linear(4, 4)
        self.fusion = nn.ModuleDict(dict(attn=nn.Linear(4, 4), norm=nn.LayerNorm(4)))
        self.head = nn.Linear(4, 1)
        self.scale = 1.0

    def forward(self, x):
        feat = _BlowUp.apply(self.fusion['attn'](self.backbone(x)), self.scale)
        return self.head(self.fusion['norm'](feat)).sum()


def test_step_with_an_infinite_gradient_is_refused_naming_the_modules():
    torch.manual_seed(0)
    model = _Net()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    NonFiniteGradHook().before_train(SimpleNamespace(model=model, optim_wrapper=wrapper))
    x = torch.randn(3, 4)
    before = [p.detach().clone() for p in model.parameters()]
    wrapper.update_params(model(x))  # finite: the step is applied
    assert any(not torch.equal(a, p) for a, p in zip(before, model.parameters()))

    model.scale = float('inf')
    loss = model(x)
    assert torch.isfinite(loss)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(FloatingPointError) as info:
        wrapper.update_params(loss)
    message = str(info.value)
    assert 'started in fusion.attn (' in message
    assert 'non-finite in backbone (' in message
    assert 'fusion.attn (' in message
    # downstream of the blow-up the gradients are finite and listed as such
    assert 'largest finite module gradient norms:' in message and 'head ' in message
    assert 'fusion.norm (' not in message
    assert all(torch.equal(a, p) for a, p in zip(before, model.parameters()))  # not applied


class _LateNet(nn.Module):
    """The blowing-up module is registered first but runs last: parameter order misleads."""

    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.Linear(4, 4)
        self.stem = nn.Linear(4, 4)
        self.trunk = nn.Linear(4, 4)
        self.head = nn.Linear(4, 1)
        self.scale = 1.0

    def forward(self, x):
        feat = self.attn(self.trunk(self.stem(x)))
        return self.head(_BlowUp.apply(feat, self.scale)).sum()


def test_the_start_is_the_first_non_finite_module_of_the_backward_pass():
    model = _LateNet()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    hook = NonFiniteGradHook(depth=1)
    hook.before_train(SimpleNamespace(model=model, optim_wrapper=wrapper))
    x = torch.randn(3, 4)
    wrapper.update_params(model(x))
    # backward order: the loss's neighbour first, the stem last
    assert sorted(hook.backward_order, key=hook.backward_order.get) == [
        'head', 'attn', 'trunk', 'stem']
    model.scale = float('inf')
    with pytest.raises(FloatingPointError, match=r'started in attn \(the first module'):
        wrapper.update_params(model(x))


def test_quick_start_and_runtime_configs_install_the_hook():
    # default_hooks, not custom_hooks: a leaf that sets its own custom_hooks keeps it
    cfg = Config.fromfile(CONFIG)
    assert cfg.default_hooks.non_finite_grad.type == 'NonFiniteGradHook'
