"""ONNX export of a hand-object estimator and an onnxruntime backend that runs the export.

The exported graph is the network as :meth:`~mmhandobj.models.estimators.HFLNet.forward_raw`
runs it: its three arguments in (``images`` (B, 3, H, W) preprocessed crops, ``hand_boxes``
and ``obj_boxes`` (B, 4) x1y1x2y2 in input-crop pixels; the input names are forward_raw's
argument names) and every tensor of the dict it returns out, under that dict's own keys and in
its order (the names are read from the dict when exporting, never written down here). MANO is
inside the graph (plain tensor algebra); PnP is not (it stays in Python, in the object head's
decoding). The CPU-only P2 windows of :class:`~mmhandobj.models.roi_extractors.
HandObjectRoIExtractor` (``cpu_windows``) are switched off for the export, so the graph holds
the full P2 maps and one RoiAlign node per crop.

:class:`OnnxRuntimeEstimator` runs such a file with onnxruntime behind the estimator's own
``test_step``/``predict``: the data preprocessor, the box gathering and every decoding step
(soft-argmax joints to pixels, vote selection, PnP) are the PyTorch estimator's, fed the
onnxruntime outputs in place of its network's.
"""
import contextlib
import copy
import inspect
import io
import os.path as osp
import warnings
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import onnx
import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from mmhandobj.models.roi_extractors import HandObjectRoIExtractor
from mmhandobj.registry import MODELS

#: Default ONNX opset (the torch.export-based exporter writes opset 18 and later).
DEFAULT_OPSET = 18
#: Largest relative difference between onnxruntime and PyTorch the export accepts.
DEFAULT_TOLERANCE = 1e-4
#: What to run to get onnxruntime.
ORT_INSTALL_HINT = 'pip install onnxruntime (pinned in requirements/optional.txt)'
#: Input size (H, W) in pixels used to list the network's outputs when the file's is dynamic.
PROBE_SHAPE = (256, 256)
#: Batch dimension name of a ``--dynamic-batch`` export, and the largest batch it accepts.
BATCH_AXIS = 'batch'
MAX_DYNAMIC_BATCH = 256


def import_onnxruntime():
    """``import onnxruntime``, or an ``ImportError`` that says what to install."""
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(f'the ONNX backend needs onnxruntime: {ORT_INSTALL_HINT}') from error
    return onnxruntime


def input_names(model: nn.Module) -> List[str]:
    """The graph's input names: the argument names of ``model.forward_raw``."""
    return list(inspect.signature(model.forward_raw).parameters)


def random_inputs(batch: int, shape: Tuple[int, int],
                  seed: int = 0) -> Tuple[Tensor, Tensor, Tensor]:
    """Random network inputs: images in [0, 1] and overlapping boxes well inside the image.

    Args:
        batch: Batch size B.
        shape: Input size (H, W), pixels.
        seed: Seed of the generator.

    Returns:
        ``images`` (B, 3, H, W), ``hand_boxes`` and ``obj_boxes`` (B, 4) x1y1x2y2 in input
        pixels, float32.
    """
    gen = torch.Generator().manual_seed(seed)
    height, width = shape
    images = torch.rand(batch, 3, height, width, generator=gen)
    scale = torch.tensor([width, height, width, height], dtype=torch.float32)

    def boxes() -> Tensor:
        top_left = torch.rand(batch, 2, generator=gen) * 0.4 + 0.05
        size = torch.rand(batch, 2, generator=gen) * 0.3 + 0.25
        return torch.cat([top_left, top_left + size], dim=1) * scale

    return images, boxes(), boxes()


class _RawForward(nn.Module):
    """``model.forward_raw`` with the dict flattened to a tuple (``torch.onnx.export`` needs
    one); :attr:`output_names` holds the dict's keys in order after the first call."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model
        self.output_names: List[str] = []

    def forward(self, images: Tensor, hand_boxes: Tensor,
                obj_boxes: Tensor) -> Tuple[Tensor, ...]:
        raw = self.model.forward_raw(images, hand_boxes, obj_boxes)
        self.output_names = list(raw)
        return tuple(raw.values())


def exportable_copy(model: nn.Module) -> nn.Module:
    """A CPU eval copy of ``model`` ready for export: P2 windows off, parameters frozen.

    Raises:
        TypeError: The model has no ``forward_raw`` (only hand-object estimators export).
    """
    if not callable(getattr(model, 'forward_raw', None)):
        raise TypeError(f'{type(model).__name__} cannot be exported to ONNX: it has no '
                        'forward_raw (only the hand-object estimators, HFLNet and '
                        'SemiHandObject, export)')
    model = copy.deepcopy(model).cpu().eval()
    for module in model.modules():
        if isinstance(module, HandObjectRoIExtractor):
            module.cpu_windows = False
    for param in model.parameters():
        param.requires_grad_(False)
    return model


@contextlib.contextmanager
def _module_trail(model: nn.Module) -> Iterator[List[str]]:
    """Within the block, the list holds the qualified names (and classes) of the modules being
    run, outermost first, so that the one an error arises in can be named."""
    trail: List[str] = []
    handles = []
    for name, module in model.named_modules():
        label = f'{name or "<model>"} ({type(module).__name__})'

        def enter(_module, _args, label=label):
            trail.append(label)

        def leave(_module, _args, _output, label=label):
            if trail and trail[-1] == label:
                trail.pop()

        handles.append(module.register_forward_pre_hook(enter))
        handles.append(module.register_forward_hook(leave))
    try:
        yield trail
    finally:
        for handle in handles:
            handle.remove()


def export_onnx(model: nn.Module, out_file: str, shape: Tuple[int, int], batch: int = 1,
                dynamic_batch: bool = False, opset: int = DEFAULT_OPSET) -> List[str]:
    """Export ``model.forward_raw`` to an ONNX file (``torch.onnx.export``'s ``torch.export``
    based exporter, ``dynamo=True``; it needs onnxscript).

    The TorchScript exporter (``dynamo=False``) is not used: it writes the traced batch size
    into the MANO layer's reshapes, so its files run at one batch size only.

    Args:
        model: A hand-object estimator (``HFLNet``, ``SemiHandObject``); copied, not changed.
        out_file: The ``.onnx`` file to write.
        shape: Input size (H, W), pixels of the preprocessed crop (the test pipeline's).
        batch: Batch size of the graph (ignored with ``dynamic_batch``).
        dynamic_batch: Leave the batch dimension of every input and output free.
        opset: ONNX opset.

    Returns:
        The output names: the keys of the dict ``forward_raw`` returns, in order.

    Raises:
        TypeError: The model has no ``forward_raw``.
        RuntimeError: The exporter failed; the message names the module it failed in.
    """
    wrapper = _RawForward(exportable_copy(model)).eval()
    names = input_names(wrapper.model)
    # torch.export specialises a dimension of size 1: trace a dynamic batch with two images
    inputs = random_inputs(max(batch, 2) if dynamic_batch else batch, shape)
    with torch.no_grad():
        wrapper(*inputs)  # the output names
    outputs = list(wrapper.output_names)
    dynamic_shapes = None
    if dynamic_batch:
        batch_dim = torch.export.Dim(BATCH_AXIS, min=1, max=MAX_DYNAMIC_BATCH)
        dynamic_shapes = tuple({0: batch_dim} for _ in names)
    with _module_trail(wrapper.model) as trail, _quiet():
        try:
            torch.onnx.export(wrapper, inputs, out_file, input_names=names,
                              output_names=outputs, dynamic_shapes=dynamic_shapes,
                              opset_version=opset, dynamo=True)
        except Exception as error:
            where = trail[-1] if trail else f'<model> ({type(model).__name__})'
            raise RuntimeError(f'{type(model).__name__} cannot be exported to ONNX: module '
                               f'{where} failed: {type(error).__name__}: {error}') from error
    if dynamic_batch:  # the exporter falls back to fixed shapes when torch.export cannot
        graph = onnx.load(out_file, load_external_data=False).graph
        fixed = [node.name for node in graph.input
                 if node.type.tensor_type.shape.dim[0].dim_param != BATCH_AXIS]
        if fixed:
            raise RuntimeError(f'{type(model).__name__}: the batch of {fixed} in {out_file} '
                               'could not be left free (the network fixes it); export with '
                               '--batch N instead')
    return outputs


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the exporter's progress lines and warnings off the console (its errors still
    raise)."""
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter('ignore')
        yield


def relative_difference(ours: np.ndarray, reference: np.ndarray) -> float:
    """``max |ours - reference| / max |reference|`` (the largest error relative to the
    output's own scale; 0 for two all-zero arrays)."""
    scale = float(np.abs(reference).max()) if reference.size else 0.0
    error = float(np.abs(ours - reference).max()) if reference.size else 0.0
    return error / scale if scale > 0 else error


def verify_onnx(model: nn.Module, onnx_file: str, inputs: Sequence[Tensor],
                num_threads: Optional[int] = None) -> Dict[str, float]:
    """Run the file with onnxruntime and ``model.forward_raw`` on the same inputs.

    Args:
        model: The exported estimator.
        onnx_file: Its ``.onnx`` file.
        inputs: ``images``, ``hand_boxes``, ``obj_boxes`` as :func:`random_inputs` gives.
        num_threads: onnxruntime's intra-op threads (default ``torch.get_num_threads()``).

    Returns:
        ``{output name: relative difference}`` (:func:`relative_difference`), every output.
    """
    reference_model = exportable_copy(model)
    with torch.no_grad():
        reference = reference_model.forward_raw(*inputs)
    session = create_session(onnx_file, num_threads=num_threads)
    names = [node.name for node in session.get_inputs()]
    feeds = {name: tensor.numpy() for name, tensor in zip(names, inputs)}
    outputs = session.run(list(reference), feeds)
    return {name: relative_difference(ours, reference[name].numpy())
            for name, ours in zip(reference, outputs)}


def create_session(onnx_file: str, num_threads: Optional[int] = None,
                   providers: Optional[Sequence[str]] = None):
    """An onnxruntime ``InferenceSession`` of ``onnx_file`` with full graph optimisation.

    Args:
        onnx_file: The ``.onnx`` file.
        num_threads: Intra-op threads (default ``torch.get_num_threads()``, the process's
            PyTorch setting).
        providers: Execution providers (default the CPU one).

    Raises:
        ImportError: onnxruntime is not installed (the message says what to install).
        FileNotFoundError: No such file.
        ValueError: onnxruntime cannot read the file (the message names it).
    """
    ort = import_onnxruntime()
    if not osp.isfile(onnx_file):
        raise FileNotFoundError(f'ONNX file {onnx_file} does not exist')
    options = ort.SessionOptions()
    options.intra_op_num_threads = num_threads or torch.get_num_threads()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    try:
        return ort.InferenceSession(onnx_file, sess_options=options,
                                    providers=list(providers or ['CPUExecutionProvider']))
    except Exception as error:  # onnxruntime raises its own exception types
        raise ValueError(f'onnxruntime cannot load {onnx_file}: {error}') from error


@MODELS.register_module()
class OnnxRuntimeEstimator(BaseModel):
    """A hand-object estimator whose network runs in onnxruntime from an exported file.

    ``test_step``/``predict`` are the PyTorch estimator's (built from ``model``, weights
    unused): its data preprocessor, box gathering and decoding run on the onnxruntime outputs,
    so ``pred_instances`` are the PyTorch model's to float rounding. Only inference is
    possible (``loss`` is refused).

    Args:
        model (dict): The estimator's config (``cfg.model``), which says how to decode.
        onnx_file (str): The file written by :func:`export_onnx`.
        num_threads (int, optional): onnxruntime's intra-op threads (default
            ``torch.get_num_threads()``).
        providers (list[str], optional): Execution providers (default the CPU one).

    Raises:
        ImportError: onnxruntime is missing.
        ValueError: The file's inputs or outputs are not the estimator's (an export of another
            model); the message names the file and both lists.
    """

    def __init__(self, model: dict, onnx_file: str, num_threads: Optional[int] = None,
                 providers: Optional[Sequence[str]] = None) -> None:
        model = copy.deepcopy(model)
        if 'backbone' in model:
            model['backbone']['init_cfg'] = None
        super().__init__(data_preprocessor=model.pop('data_preprocessor', None))
        self.onnx_file = onnx_file
        self.session = create_session(onnx_file, num_threads, providers)
        decoder = exportable_copy(MODELS.build(model))
        object.__setattr__(self, 'decoder', decoder)  # not a submodule: no weights to move
        self.input_shapes = {node.name: node.shape for node in self.session.get_inputs()}
        self.head_outputs = self._check_file()

    def _check_file(self) -> Dict[str, Dict[str, str]]:
        """Check the file's names against the estimator's and map each head's output keys to
        the graph's outputs.

        ``forward_raw`` runs once at batch 1 with hooks on the two heads; an output of the
        raw dict that is the very tensor a head returned is that head output.

        Returns:
            ``{'hand_head': {head key: output name}, 'obj_head': {...}}``.
        """
        expected_inputs = input_names(self.decoder)
        if list(self.input_shapes) != expected_inputs:
            raise ValueError(f'{self.onnx_file} is not an export of {type(self.decoder).__name__}'
                             f': inputs {list(self.input_shapes)}, expected {expected_inputs}')
        dims = list(self.input_shapes[expected_inputs[0]] or [])
        spatial = dims[2:] if len(dims) == 4 else [None, None]
        height, width = (dim if isinstance(dim, int) else default
                         for dim, default in zip(spatial, PROBE_SHAPE))
        captured: Dict[str, Dict[str, Tensor]] = {}
        handles = [getattr(self.decoder, head).register_forward_hook(
            lambda _module, _args, output, head=head: captured.__setitem__(head, output))
            for head in ('hand_head', 'obj_head')]
        try:
            with torch.no_grad():
                raw = self.decoder.forward_raw(*random_inputs(1, (height, width)))
        finally:
            for handle in handles:
                handle.remove()
        given = [node.name for node in self.session.get_outputs()]
        if given != list(raw):
            raise ValueError(f'{self.onnx_file} is not an export of this '
                             f'{type(self.decoder).__name__}: outputs {given}, expected '
                             f'{list(raw)} (forward_raw of the config)')
        by_id = {id(tensor): name for name, tensor in raw.items()}
        return {head: {key: by_id[id(value)] for key, value in outputs.items()
                       if id(value) in by_id}
                for head, outputs in captured.items()}

    def _check_shape(self, images: Tensor) -> None:
        expected = self.input_shapes[input_names(self.decoder)[0]]
        static = [(i, dim) for i, dim in enumerate(expected) if isinstance(dim, int) and i > 0]
        if images.dim() != len(expected) or any(images.shape[i] != dim for i, dim in static):
            shown = ['B' if not isinstance(dim, int) else dim for dim in expected]
            raise ValueError(f'{self.onnx_file} takes images of shape {shown} (batch, '
                             f'channels, height, width), got {list(images.shape)}: test with '
                             'the pipeline of the config it was exported with, or export '
                             'again with --shape')

    def forward_raw(self, images: Tensor, hand_boxes: Tensor,
                    obj_boxes: Tensor) -> Dict[str, Tensor]:
        """The exported network's outputs, as the PyTorch estimator's ``forward_raw`` gives
        them (same keys, shapes and dtypes; on the device of ``images``).

        A file exported for a fixed batch N runs any batch, N images at a time (the last
        chunk padded with copies of its last image).
        """
        self._check_shape(images)
        batch = self.input_shapes[input_names(self.decoder)[0]][0]
        step = batch if isinstance(batch, int) else images.shape[0]
        names = input_names(self.decoder)
        chunks: List[List[np.ndarray]] = []
        for start in range(0, images.shape[0], step):
            feeds = {}
            for name, tensor in zip(names, (images, hand_boxes, obj_boxes)):
                part = tensor[start:start + step].detach().float().cpu()
                if part.shape[0] < step:
                    pad = part[-1:].expand(step - part.shape[0], *part.shape[1:])
                    part = torch.cat([part, pad])
                feeds[name] = part.contiguous().numpy()
            chunks.append(self.session.run(None, feeds))
        size = images.shape[0]
        names_out = [node.name for node in self.session.get_outputs()]
        return {name: torch.from_numpy(np.concatenate([chunk[i] for chunk in chunks])[:size]
                                       ).to(images.device)
                for i, name in enumerate(names_out)}

    @contextlib.contextmanager
    def _network_replaced(self, raw: Dict[str, Tensor]) -> Iterator[None]:
        """Within the block, the decoder's trunk and heads return the onnxruntime outputs."""
        decoder = self.decoder
        heads = {head: {key: raw[name] for key, name in keys.items()}
                 for head, keys in self.head_outputs.items()}
        decoder._head_features = lambda *_args: (None, None)
        for head, outputs in heads.items():
            getattr(decoder, head).forward = lambda *_args, outputs=outputs: dict(outputs)
        try:
            yield
        finally:
            del decoder._head_features
            for head in heads:
                del getattr(decoder, head).forward

    def predict(self, inputs: Tensor, data_samples: list) -> list:
        """The estimator's ``predict`` with the network run by onnxruntime.

        Args:
            inputs: (B, 3, H, W) preprocessed images.
            data_samples: As the estimator's ``predict`` takes them.

        Returns:
            The data samples with ``pred_instances``.
        """
        hand_boxes, obj_boxes = self.decoder._boxes(inputs, data_samples)
        raw = self.forward_raw(inputs, hand_boxes, obj_boxes)
        with self._network_replaced(raw):
            return self.decoder.predict(inputs, data_samples)

    def forward(self, inputs: Tensor, data_samples: Optional[list] = None,
                mode: str = 'predict'):
        """MMEngine entry point: ``'predict'`` or ``'tensor'`` (:meth:`forward_raw`)."""
        if data_samples is None:
            raise ValueError('OnnxRuntimeEstimator needs data_samples carrying '
                             'gt_instances.hand_bboxes and obj_bboxes')
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_raw(inputs, *self.decoder._boxes(inputs, data_samples))
        raise ValueError(f"{self.onnx_file} runs inference only: mode must be 'predict' or "
                         f"'tensor', got {mode!r}")


def onnx_model_cfg(model: dict, onnx_file: str) -> dict:
    """The config of an :class:`OnnxRuntimeEstimator` running ``onnx_file`` for the estimator
    configured by ``model`` (``cfg.model``), to put in ``cfg.model``."""
    return dict(type='mmhandobj.OnnxRuntimeEstimator', model=copy.deepcopy(model),
                onnx_file=onnx_file)
