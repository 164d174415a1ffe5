"""Device bugs caught without a GPU, on the tiny HFL-Net and Semi-Hand-Object (stand-in MANO).

A tensor made without ``device=`` (``torch.zeros(3)``, ``torch.tensor(...)``,
``torch.from_numpy(...)``) lands on the CPU whatever device the model runs on, so on a GPU it
breaks the first op that meets a CUDA tensor; on a CPU-only machine every tensor is on the CPU
and nothing fails. Two checks make such a tensor visible here:

* :class:`StrayTensorMode` runs the real CPU computation (data-dependent steps such as box
  validation, PnP and the finite-loss check included) and tracks which tensors are on the
  model's device: parameters, buffers, images, targets, the results of calls that take one of
  them or name a device. Every other tensor (a factory call without ``device=``,
  ``torch.from_numpy``, ``Tensor.cpu()``) is *stray*. A call that combines a stray tensor of
  one or more dimensions with a device tensor fails, as it would on a GPU (CUDA accepts 0-dim
  CPU tensors, so stray scalars pass). ``Tensor.to``, ``copy_`` and ``device=`` cross over.
* The network forward on the ``meta`` device, where a CPU tensor meets a meta one and PyTorch
  refuses.

Neither sees a hard-coded ``device='cpu'``: on this machine it is the inputs' device.
"""
from typing import Any, Callable, Iterable, Iterator, List, Optional

import pytest
import torch
from torch.overrides import TorchFunctionMode

from mmhandobj.registry import MODELS
from tests.test_models.test_estimators.test_hflnet import make_samples

#: Calls that move a tensor between devices on purpose; they never mix devices.
DEVICE_MOVES = frozenset({torch.Tensor.to, torch.Tensor.copy_, torch.Tensor.cuda})
#: The tiny models' input size, pixels (make_samples' boxes lie inside it).
IMAGE_SIZE = 64


class DeviceMismatch(RuntimeError):
    """A call combined a stray (default-device) tensor with a tensor on the model's device."""


def _tensors(value: Any) -> Iterator[torch.Tensor]:
    """Every tensor in ``value``, looking through lists, tuples and dict values."""
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _tensors(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _tensors(item)


def _names_device(func: Callable, args: tuple, kwargs: dict) -> bool:
    """Whether the call states where its result goes (``device=``, or ``.to(device|tensor)``)."""
    if kwargs.get('device') is not None:
        return True
    if func is torch.Tensor.to:
        return any(isinstance(arg, (str, torch.device, torch.Tensor)) for arg in args[1:])
    return func is torch.Tensor.cuda


class StrayTensorMode(TorchFunctionMode):
    """Fail on a call that mixes a stray tensor (one or more dimensions) with a device tensor.

    Device tensors are those given (parameters, buffers, inputs, targets), the results of
    calls that take one or name a device, and nothing else: a tensor the mode has not seen
    made (``torch.from_numpy``, which bypasses torch-function modes) counts as stray. Device
    tensors made while the mode is active are kept alive in :attr:`made` so that their ids
    stay unique.

    Args:
        device_tensors: The tensors on the model's device when the mode is entered.
    """

    def __init__(self, device_tensors: Iterable[torch.Tensor]) -> None:
        super().__init__()
        self.made: List[torch.Tensor] = []
        self._device_ids = {id(t) for t in device_tensors}

    def _is_stray(self, tensor: torch.Tensor) -> bool:
        return id(tensor) not in self._device_ids

    def __torch_function__(self, func: Callable, types: tuple, args: tuple = (),
                           kwargs: Optional[dict] = None) -> Any:
        kwargs = kwargs or {}
        inputs = list(_tensors(args)) + list(_tensors(kwargs))
        stray = [t for t in inputs if self._is_stray(t)]
        if func not in DEVICE_MOVES and any(t.dim() > 0 for t in stray) and \
                len(stray) < len(inputs):
            shapes = [tuple(t.shape) for t in stray]
            raise DeviceMismatch(
                f'{getattr(func, "__qualname__", func)} combines tensors made on the default '
                f'device (shapes {shapes}, created without device=) with tensors on the '
                "model's device: create them with device=/new_*/*_like")
        result = func(*args, **kwargs)
        if func is torch.Tensor.cpu:
            if any(result is t for t in inputs):  # ``.cpu()`` of a CPU tensor: a copy on a GPU
                result = result.clone()
            return result
        if _names_device(func, args, kwargs) or len(stray) < len(inputs):
            for tensor in _tensors(result):
                if self._is_stray(tensor):
                    self._device_ids.add(id(tensor))
                    self.made.append(tensor)
        return result


def _device_tensors(model: torch.nn.Module, images: torch.Tensor,
                    samples: list) -> List[torch.Tensor]:
    """Parameters, buffers, images and every ``gt_instances`` tensor: the model's device."""
    targets = [value for sample in samples for value in sample.gt_instances.values()
               if isinstance(value, torch.Tensor)]
    return [*model.parameters(), *model.buffers(), images, *targets]


@pytest.fixture(scope='module', params=['hfl', 'sho'])
def build_model(request, hfl_model_cfg, sho_model_cfg) -> Callable[[], torch.nn.Module]:
    """Builds the tiny HFL-Net or Semi-Hand-Object with initialised weights."""
    def build() -> torch.nn.Module:
        torch.manual_seed(0)
        net = MODELS.build(hfl_model_cfg() if request.param == 'hfl' else sho_model_cfg())
        net.init_weights()
        return net
    return build


@pytest.fixture(scope='module')
def model(build_model) -> torch.nn.Module:
    return build_model()


def _images(device: str = 'cpu') -> torch.Tensor:
    return torch.rand(2, 3, IMAGE_SIZE, IMAGE_SIZE, generator=torch.Generator().manual_seed(0)
                      ).to(device)


def test_mode_catches_a_tensor_made_without_device():
    """The mode itself: a stray tensor meeting a device tensor fails, the ways across pass."""
    x = torch.rand(2, 3)
    with StrayTensorMode([x]):
        assert (x + torch.zeros(3, device=x.device)).shape == (2, 3)
        assert (x + x.new_zeros(3) + torch.zeros_like(x)).shape == (2, 3)
        assert (x + torch.zeros(3).to(x.device)).shape == (2, 3)
        assert (x * torch.tensor(2.0)).shape == (2, 3)  # a 0-dim CPU tensor is fine on CUDA
        host = x.cpu().numpy()
        assert torch.from_numpy(host).to(x).shape == (2, 3)
        with pytest.raises(DeviceMismatch, match=r'add.*shapes \[\(3,\)\]'):
            x + torch.zeros(3)
        with pytest.raises(DeviceMismatch, match='cat'):
            torch.cat([x, torch.ones(1, 3) * 2])  # stray through an op of stray tensors
        with pytest.raises(DeviceMismatch, match='mul'):
            x * torch.from_numpy(host)


def test_loss_mixes_no_devices(model):
    model.train()
    images, samples = _images(), make_samples()
    with StrayTensorMode(_device_tensors(model, images, samples)):
        losses = model(images, samples, mode='loss')
    assert losses and all(torch.isfinite(value) for value in losses.values())


def test_predict_mixes_no_devices(model):
    model.eval()
    images, samples = _images(), make_samples()
    with torch.no_grad(), StrayTensorMode(_device_tensors(model, images, samples)):
        results = model(images, samples, mode='predict')
    assert len(results) == 2
    assert results[0].pred_instances.hand_joints3d.shape[-2:] == (21, 3)


def test_network_forward_runs_on_meta(build_model):
    model = build_model().eval().to('meta')
    samples = [sample.to('meta') for sample in make_samples()]
    with torch.no_grad():
        out = model(_images('meta'), samples, mode='tensor')
    assert out and {value.device.type for value in out.values()} == {'meta'}
