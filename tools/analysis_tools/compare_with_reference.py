"""Speed of this codebase against the authors' code on the same machine, sides interleaved.

Examples (from the repository root, with a checkout of the authors' code in ``DIR``)::

    git clone https://github.com/lzfff12/HFL-Net DIR
    python tools/analysis_tools/compare_with_reference.py --reference-code DIR
    git clone https://github.com/stevenlsw/Semi-Hand-Object SHO
    git clone https://github.com/hassony2/manopth MANOPTH
    python tools/analysis_tools/compare_with_reference.py --method sho --reference-code SHO \\
        --manopth MANOPTH

What is timed, on the CPU, both sides with the same shapes, random weights and random targets:

* ``--method hfl`` (default): the HFL-Net R50 training step at ``--batch`` (forward, losses,
  backward, Adam) on 256x256 images with the same hand and object boxes (``benchmark.py``'s
  anchor boxes); inference at each of ``--infer-batches`` (the network's forward, no PnP); the
  MANO layer at ``--mano-batch``, forward and backward (45 axis-angle components, flat hand
  mean).
* ``--method sho``: Semi-Hand-Object R50 inference at its own setting, 512x512 crops, at each
  of ``--infer-batches`` (default 4 and 1).

The authors' side is their ``HONet`` (eval mode, no grad, for inference), for HFL-Net also
their losses (``HOModel``, the weights of their HO3D options), their ``torch.optim.Adam`` and
their manopth ``ManoLayer``. Our side runs the inference in each of ``--runtimes``:

* ``pytorch``: exactly ``tools/analysis_tools/benchmark.py`` (``--standin-mano``: folded
  BatchNorms, channels-last, the CPU P2 windows; the training step with the config's
  optimizer) and, for HFL-Net, ``benchmark_mano.py``'s forward+backward;
* ``onnxruntime``: the same network exported at each batch by
  :func:`mmhandobj.apis.onnx_backend.export_onnx` (what ``tools/deployment/pytorch2onnx.py``
  writes) to a temporary file, run by an onnxruntime session with ``--threads`` intra-op
  threads; only ``session.run`` is timed (the export time is printed apart);
* ``openvino``: the same exported file compiled by OpenVINO for the CPU in fp32 with
  ``--threads`` threads (``pip install openvino``); only ``infer`` is timed;
* ``compile``: ``torch.compile`` of the inference-optimised network's ``forward_raw``; the
  first call at each batch (compilation included) is reported apart from the steady state.

Each runtime's outputs are compared with our plain eager forward (BatchNorms unfolded, NCHW,
no P2 windows) on the timed input, and the worst relative difference
(:func:`~mmhandobj.apis.onnx_backend.relative_difference`) is printed.

Each measurement runs in a fresh process (``--side``), authors first and then each runtime, for
``--rounds`` rounds (authors, pytorch, onnxruntime, authors, pytorch, ...), so that no side
inherits another's caches and a drift of the machine's load hits all sides. Prints each
round's figures and, per quantity and runtime, the median and the range of the ratios ours /
authors (images/s; for MANO, their milliseconds over ours): higher is faster.

Each side also counts the work of one image of what it runs (GFLOPs, as ``get_flops.py``
counts them: our eager network with its CPU P2 windows; the exported graph with full P2 maps;
the authors' network) and the authors' side times one large 3x3 convolution for scale. The
summary then splits each inference speed-up into a product: their GFLOPs per image over ours
(less work) times our GFLOP/s over theirs (a higher rate).

manopth needs chumpy only to read the MANO pickle; here the authors' MANO layers get the
stand-in MANO arrays directly (the same arrays as ours): for HFL-Net through its vendored
manopth's ``ready_arguments``, for Semi-Hand-Object through a stand-in module
``mano.webuser.smpl_handpca_wrapper_HAND_only`` (the MANO release's loader, which its
``utils/manolayer_ho3d.py`` imports). Semi-Hand-Object also imports the ``manopth`` package:
``--manopth`` names a clone of hassony2/manopth (HFL-Net's vendored copy imports itself as
``manopth.manopth`` and does not serve).
No file of the authors' code is changed or copied.
"""
import argparse
import contextlib
import copy
import importlib.util
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np

#: The authors' repositories.
REFERENCE_REPO = 'https://github.com/lzfff12/HFL-Net'
SHO_REPO = 'https://github.com/stevenlsw/Semi-Hand-Object'
MANOPTH_REPO = 'https://github.com/hassony2/manopth'
#: The authors' HO3D options (their utils/options.py defaults): loss weights of ``HOModel``.
REFERENCE_LOSS_WEIGHTS = dict(
    mano_lambda_verts3d=1e4, mano_lambda_joints3d=1e4, mano_lambda_manopose=10,
    mano_lambda_manoshape=0.1, mano_lambda_regulshape=0, mano_lambda_regulpose=0,
    lambda_joints2d=1e2, lambda_objects=5e2)
#: HFL-Net's interaction blocks (``--transformer_depth``, ``--transformer_head``).
REFERENCE_TRANSFORMER = dict(transformer_depth=1, transformer_head=4)
#: Semi-Hand-Object's network options (its utils/options.py defaults, utils/utils.py
#: ``get_network``): one stack, 256 channels, one block, one CR block with one head.
SHO_NETWORK = dict(stacks=1, channels=256, blocks=1, mano_neurons=[1024, 512],
                   transformer_depth=1, transformer_head=1, reg_object=True)
#: Semi-Hand-Object's change from HO3D to OpenGL camera axes (its ``get_network``).
SHO_COORD_CHANGE = ((1.0, 0.0, 0.0), (0.0, -1.0, 0.0), (0.0, 0.0, -1.0))
#: Their optimizer settings (traineval.py: Adam over the trainable parameters).
REFERENCE_ADAM = dict(lr=1e-4, weight_decay=5e-4)
#: RoI side in P2 cells (both sides, both methods).
ROI_SIZE = 32
#: Input side in pixels the anchor boxes of ``benchmark.py`` are given for.
ANCHOR_INPUT_SIZE = 256
#: Files of hassony2/manopth Semi-Hand-Object's MANO layer imports (relative to ``--manopth``).
MANOPTH_FILES = ('manopth/__init__.py', 'manopth/argutils.py', 'manopth/tensutils.py',
                 'manopth/rodrigues_layer.py', 'manopth/rotproj.py', 'manopth/rot6d.py')
#: How HFL-Net's vendored manopth imports itself (it only runs from HFL-Net's root).
VENDORED_MANOPTH_IMPORT = 'from manopth.manopth import'
#: Module path of the MANO release's pickle loader (Semi-Hand-Object's MANO layer imports it).
MANO_LOADER_MODULE = 'mano.webuser.smpl_handpca_wrapper_HAND_only'
#: Prefix of the one stdout line a ``--side`` process reports its figures on.
RESULT_PREFIX = 'RESULT '
#: The authors' side, and our inference runtimes (each timed in its own process).
REFERENCE_SIDE = 'reference'
RUNTIMES = ('pytorch', 'onnxruntime', 'openvino', 'compile')
DEFAULT_RUNTIMES = ('pytorch', 'onnxruntime')
#: Seed of the random images (the same on every side).
INPUT_SEED = 0
#: Relative jitter that makes every weight tensor of our timed network distinct.
WEIGHT_JITTER = 0.01
#: (batch, channels, height, width) of the one large convolution whose rate is printed for
#: scale: a 3x3 convolution, 256 to 256 channels, on 8 maps of 64x64 cells (HFL-Net's P2
#: smoothing at 256x256), channels-last.
CONV_RATE_SHAPE = (8, 256, 64, 64)


@dataclass(frozen=True)
class Method:
    """One network compared with its authors' code.

    Attributes:
        label: Printed name.
        repo: The authors' repository.
        files: Files of their checkout this tool imports (relative to its root).
        classes: Class definitions their network file must hold.
        config: Our config (default of ``--config``).
        input_size: Input side in pixels (square crops).
        infer_batches: Default inference batch sizes.
        train: Whether the training step and the MANO layer are timed too.
    """
    label: str
    repo: str
    files: Tuple[str, ...]
    classes: Tuple[str, ...]
    config: str
    input_size: int
    infer_batches: Tuple[int, ...]
    train: bool


METHODS = dict(
    hfl=Method('HFL-Net R50', REFERENCE_REPO,
               ('model.py', 'networks/backbone_share.py', 'networks/mano_head.py',
                'manopth/manopth/manolayer.py'),
               ('class HONet', 'class HOModel'), 'configs/hfl/hfl_r50_ho3d.py', 256, (8, 1),
               True),
    sho=Method('Semi-Hand-Object R50', SHO_REPO,
               ('models.py', 'networks/backbone.py', 'networks/CR.py', 'networks/mano_head.py',
                'utils/manolayer_ho3d.py'),
               ('class HONet',), 'configs/sho/sho_r50_ho3d.py', 512, (4, 1), False),
)
#: Files of the HFL-Net checkout (kept under this name for the callers of the HFL-Net check).
REFERENCE_FILES = METHODS['hfl'].files
REFERENCE_CLASSES = METHODS['hfl'].classes


def _sibling(name: str) -> ModuleType:
    """Import ``tools/analysis_tools/<name>.py`` (the tools folder is not a package)."""
    path = osp.join(osp.dirname(osp.abspath(__file__)), f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'_analysis_tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_reference_code(path: str, method: str = 'hfl') -> str:
    """Absolute path of a checkout of the authors' code of ``method``.

    Args:
        path: The folder given as ``--reference-code``.
        method: A key of :data:`METHODS`.

    Returns:
        Its absolute path.

    Raises:
        SystemExit: If ``path`` is not a folder, lacks one of the method's files, or its
            network file does not define the method's classes; the message names what is
            missing and how to get the checkout.
    """
    spec = METHODS[method]
    root = osp.abspath(path)
    how = f'get it with `git clone {spec.repo} {path}`'
    if not osp.isdir(root):
        raise SystemExit(f'error: --reference-code {path}: no such folder; {how}')
    missing = [name for name in spec.files if not osp.isfile(osp.join(root, name))]
    if missing:
        raise SystemExit(f'error: --reference-code {path} is not a checkout of the authors\' '
                         f'{spec.label.split()[0]} code ({spec.repo}): missing '
                         f'{", ".join(missing)}; {how}')
    with open(osp.join(root, spec.files[0]), encoding='utf-8', errors='replace') as file:
        text = file.read()
    absent = [cls for cls in spec.classes if cls not in text]
    if absent:
        raise SystemExit(f'error: --reference-code {path}: {spec.files[0]} does not define '
                         f'{", ".join(c.split()[1] for c in absent)}; is it the authors\' '
                         f'{spec.label.split()[0]} code ({spec.repo})?')
    return root


def check_manopth(path: str) -> str:
    """Absolute path of a clone of hassony2/manopth (the folder holding its ``manopth``
    package).

    Raises:
        SystemExit: If ``path`` lacks one of :data:`MANOPTH_FILES`, or is HFL-Net's vendored
            copy (whose modules import ``manopth.manopth``, so they run only from HFL-Net's
            root); the message names the files or the copy, and where to get the package.
    """
    root = osp.abspath(path)
    how = f'get it with `git clone {MANOPTH_REPO} {path}`'
    missing = [name for name in MANOPTH_FILES if not osp.isfile(osp.join(root, name))]
    if missing:
        raise SystemExit(f'error: --manopth {path} does not hold the manopth package: missing '
                         f'{", ".join(missing)}; {how}')
    rodrigues = osp.join(root, 'manopth', 'rodrigues_layer.py')
    with open(rodrigues, encoding='utf-8', errors='replace') as file:
        if VENDORED_MANOPTH_IMPORT in file.read():
            raise SystemExit(f'error: --manopth {path} is HFL-Net\'s vendored manopth (its '
                             f'rodrigues_layer.py imports manopth.manopth), which does not '
                             f'import as manopth; {how}')
    return root


class _ChumpyValue:
    """What manopth reads of a chumpy array: its value, ``.r``."""

    def __init__(self, value: np.ndarray) -> None:
        self.r = value


def reference_mano_data(arrays: Dict[str, np.ndarray]) -> Dict[str, object]:
    """The dict manopth's ``ready_arguments`` would return, built from MANO arrays.

    Args:
        arrays: MANO arrays as :func:`mmhandobj.models.mano.load_mano_model` returns them
            (metres; ``J_regressor (16, 778)`` dense).

    Returns:
        The keys ``ManoLayer.__init__`` of manopth reads: chumpy-like ``betas`` (zeros, 10),
        ``shapedirs``, ``posedirs``, ``v_template``, ``weights`` (``.r``), a scipy CSC
        ``J_regressor`` (``.toarray()``) and plain ``f``, ``kintree_table``,
        ``hands_components``, ``hands_mean``.
    """
    import scipy.sparse

    data: Dict[str, object] = {
        key: _ChumpyValue(np.asarray(arrays[key]))
        for key in ('shapedirs', 'posedirs', 'v_template', 'weights')}
    data['betas'] = _ChumpyValue(np.zeros(arrays['shapedirs'].shape[-1]))
    data['J_regressor'] = scipy.sparse.csc_matrix(arrays['J_regressor'])
    for key in ('f', 'kintree_table', 'hands_components', 'hands_mean'):
        data[key] = np.asarray(arrays[key])
    return data


def interleaving(rounds: int, runtimes: Sequence[str]) -> List[Tuple[int, str]]:
    """The order the side processes run in: per round the authors, then each runtime.

    Args:
        rounds: Number of rounds (from 1).
        runtimes: Our runtimes, in the order given.

    Returns:
        ``(round, side)`` pairs, e.g. ``[(1, 'reference'), (1, 'pytorch'), (2, 'reference'),
        (2, 'pytorch')]``.
    """
    return [(number, side) for number in range(1, rounds + 1)
            for side in (REFERENCE_SIDE, *runtimes)]


def infer_key(batch: int) -> str:
    """Name of the inference images/s figure at ``batch``."""
    return f'infer_b{batch}_img_s'


def timing_inputs(batch: int, size: int):
    """The timed input of every side: random images in [0, 1] and ``benchmark.py``'s anchor
    boxes.

    Args:
        batch: Batch size B.
        size: Input side in pixels.

    Returns:
        ``images`` (B, 3, size, size), ``hand_boxes`` and ``obj_boxes`` (B, 4) x1y1x2y2 in
        input pixels (the anchor boxes scaled from a 256x256 input).
    """
    import torch

    benchmark = _sibling('benchmark')
    gen = torch.Generator().manual_seed(INPUT_SEED)
    images = torch.rand(batch, 3, size, size, generator=gen)
    scale = size / ANCHOR_INPUT_SIZE
    hand = (torch.tensor([benchmark.ANCHOR_HAND_BOX]) * scale).repeat(batch, 1)
    obj = (torch.tensor([benchmark.ANCHOR_OBJ_BOX]) * scale).repeat(batch, 1)
    return images, hand, obj


def gflop_per_image(call: Callable[[], object], batch: int) -> float:
    """GFLOPs per image of one ``call`` on a batch of ``batch`` images, as
    ``get_flops.py`` counts them (convolutions, linear layers, matrix products, attention on
    the math kernel; elementwise work, normalisation and RoIAlign not counted)."""
    with _sibling('get_flops').counting() as counter:
        call()
    return counter.get_total_flops() / batch / 1e9


def conv_rate(warmup: int, iters: int) -> float:
    """GFLOP/s of this CPU on one large 3x3 convolution (:data:`CONV_RATE_SHAPE`), with the
    threads already set: what the arithmetic of a network reaches at best here."""
    import torch

    benchmark = _sibling('benchmark')
    batch, channels, height, width = CONV_RATE_SHAPE
    gen = torch.Generator().manual_seed(INPUT_SEED)
    images = torch.rand(CONV_RATE_SHAPE, generator=gen).to(memory_format=torch.channels_last)
    conv = torch.nn.Conv2d(channels, channels, 3, padding=1).to(
        memory_format=torch.channels_last)

    def run() -> None:
        with torch.no_grad():
            conv(images)

    seconds = benchmark.measure(run, torch.device('cpu'), warmup, iters)['seconds']
    return 2 * batch * channels * channels * 9 * height * width / seconds / 1e9


def _our_network(args: argparse.Namespace):
    """Our network of ``--config`` (stand-in MANO, initialised weights, eval mode), each weight
    tensor made distinct.

    At initialisation the hand and object streams' later backbone stages are copies of one
    stage. An exporter or runtime that merges identical weights (the TorchScript ONNX exporter
    before onnxruntime, OpenVINO) then computes those stages once, which trained weights never
    allow; so every parameter is scaled by its own ``1 + WEIGHT_JITTER * N(0, 1)``.
    """
    import torch

    torch.manual_seed(INPUT_SEED)
    with contextlib.redirect_stdout(sys.stderr):
        model = _sibling('benchmark').build_model(args.config, False, True).eval()
    gen = torch.Generator().manual_seed(INPUT_SEED)
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(1 + WEIGHT_JITTER * torch.randn(param.shape, generator=gen))
    return model


def _worst_difference(outputs: Dict[str, np.ndarray], model, inputs) -> float:
    """Largest relative difference of ``outputs`` from our plain eager ``forward_raw``.

    Args:
        outputs: ``{output name: array}`` of a runtime, on ``inputs``.
        model: Our network (unchanged: BatchNorms unfolded).
        inputs: ``images``, ``hand_boxes``, ``obj_boxes``.
    """
    import torch

    from mmhandobj.apis.onnx_backend import exportable_copy, relative_difference

    with torch.no_grad():
        reference = exportable_copy(model).forward_raw(*inputs)
    return max(relative_difference(outputs[name], reference[name].numpy())
               for name in reference)


def time_pytorch(args: argparse.Namespace) -> Dict[str, float]:
    """Our PyTorch figures, measured by ``benchmark.py`` (and ``benchmark_mano.py``)."""
    import torch

    from mmhandobj.models.inference_optim import optimize_for_inference

    benchmark = _sibling('benchmark')
    method = METHODS[args.method]
    size = str(method.input_size)
    torch.set_num_threads(args.threads)
    common = [args.config, '--device', 'cpu', '--shape', size, size, '--standin-mano',
              '--warmup', str(args.warmup), '--iters', str(args.iters)]
    figures = {}
    with contextlib.redirect_stdout(sys.stderr):
        if method.train:
            train = benchmark.main(common + ['--batch', str(args.batch), '--modes', 'train'])
            figures['train_img_s'] = args.batch / train['train']['seconds']
            benchmark_mano = _sibling('benchmark_mano')
            rows = benchmark_mano.benchmark(
                benchmark_mano.parse_args(['--batch', str(args.mano_batch), '--device', 'cpu']),
                torch.device('cpu'))
            figures['mano_fwd_bwd_ms'] = next(float(row[2]) for row in rows
                                              if row[1] == 'forward+backward')
        for batch in args.infer_batches:
            infer = benchmark.main(common + ['--batch', str(batch), '--modes', 'infer'])
            figures[infer_key(batch)] = batch / infer['infer']['seconds']
    model = _our_network(args)
    fast = optimize_for_inference(copy.deepcopy(model))
    for batch in args.infer_batches:
        inputs = timing_inputs(batch, method.input_size)
        with torch.no_grad():
            raw = fast.forward_raw(inputs[0].to(memory_format=torch.channels_last), *inputs[1:])
        figures[f'max_rel_diff_b{batch}'] = _worst_difference(
            {name: value.numpy() for name, value in raw.items()}, model, inputs)
    figures['gflop_img'] = _eager_gflop(fast, method.input_size)
    return figures


def _eager_gflop(fast, size: int) -> float:
    """GFLOPs per image of the inference-optimised network (CPU P2 windows) on the timed
    input."""
    import torch

    images, hand, obj = timing_inputs(1, size)
    return gflop_per_image(
        lambda: fast.forward_raw(images.to(memory_format=torch.channels_last), hand, obj), 1)


def _exported_runs(args: argparse.Namespace, run_file: Callable) -> Dict[str, float]:
    """Our figures in a runtime that runs the exported file: the network exported at each
    batch (:func:`~mmhandobj.apis.onnx_backend.export_onnx`, timed apart), then
    ``run_file(path, names, feeds)`` gives the runtime's one-batch call, which is timed.

    Args:
        args: The parsed arguments (method, config, batches, threads, warm-up, iterations).
        run_file: ``(onnx path, output names, [images, hand_boxes, obj_boxes] as numpy) ->
            (call with no argument returning {output name: array})``.
    """
    import torch

    from mmhandobj.apis.onnx_backend import export_onnx, exportable_copy

    benchmark = _sibling('benchmark')
    method = METHODS[args.method]
    torch.set_num_threads(args.threads)
    model = _our_network(args)
    figures = {}
    with tempfile.TemporaryDirectory() as folder:
        for batch in args.infer_batches:
            path = osp.join(folder, f'b{batch}.onnx')
            start = time.perf_counter()
            names = export_onnx(model, path, (method.input_size, method.input_size), batch=batch)
            figures[f'export_s_b{batch}'] = time.perf_counter() - start
            inputs = timing_inputs(batch, method.input_size)
            run = run_file(path, names, [tensor.numpy() for tensor in inputs])
            timed = benchmark.measure(run, torch.device('cpu'), args.warmup, args.iters)
            figures[infer_key(batch)] = batch / timed['seconds']
            figures[f'max_rel_diff_b{batch}'] = _worst_difference(run(), model, inputs)
    exported, single = exportable_copy(model), timing_inputs(1, method.input_size)
    figures['gflop_img'] = gflop_per_image(lambda: exported.forward_raw(*single), 1)
    return figures


def time_onnxruntime(args: argparse.Namespace) -> Dict[str, float]:
    """Our figures in onnxruntime: ``session.run`` of the file exported at each batch."""
    from mmhandobj.apis.onnx_backend import create_session

    def run_file(path: str, names: List[str], feeds: list) -> Callable:
        session = create_session(path, num_threads=args.threads)
        named = {node.name: array for node, array in zip(session.get_inputs(), feeds)}
        return lambda: dict(zip(names, session.run(names, named)))

    return _exported_runs(args, run_file)


def time_openvino(args: argparse.Namespace) -> Dict[str, float]:
    """Our figures in OpenVINO: the file exported at each batch compiled for the CPU in fp32
    (``INFERENCE_PRECISION_HINT``, so a CPU with bf16 units does not round to bf16) with
    ``--threads`` threads and the latency hint; one infer request's ``infer`` is timed."""
    import openvino

    core = openvino.Core()
    config = {'INFERENCE_NUM_THREADS': args.threads, 'INFERENCE_PRECISION_HINT': 'f32',
              'PERFORMANCE_HINT': 'LATENCY'}

    def run_file(path: str, names: List[str], feeds: list) -> Callable:
        compiled = core.compile_model(core.read_model(path), 'CPU', config)
        request = compiled.create_infer_request()
        ports = {name: port for port in compiled.outputs for name in port.get_names()}

        def run() -> Dict[str, np.ndarray]:
            result = request.infer(feeds)
            return {name: result[ports[name]] for name in names}
        return run

    return _exported_runs(args, run_file)


def time_compile(args: argparse.Namespace) -> Dict[str, float]:
    """Our figures with ``torch.compile`` of the inference-optimised ``forward_raw``, compiled
    afresh at each batch; the first call (compilation included) is timed apart."""
    import torch

    from mmhandobj.models.inference_optim import optimize_for_inference

    benchmark = _sibling('benchmark')
    method = METHODS[args.method]
    torch.set_num_threads(args.threads)
    model = _our_network(args)
    fast = optimize_for_inference(copy.deepcopy(model))
    figures = {}
    for batch in args.infer_batches:
        torch._dynamo.reset()
        compiled = torch.compile(fast.forward_raw)
        inputs = timing_inputs(batch, method.input_size)
        feeds = (inputs[0].to(memory_format=torch.channels_last), *inputs[1:])

        def infer(compiled=compiled, feeds=feeds) -> Dict[str, 'torch.Tensor']:
            with torch.no_grad():
                return compiled(*feeds)

        start = time.perf_counter()
        with contextlib.redirect_stdout(sys.stderr):
            raw = infer()
        figures[f'compile_s_b{batch}'] = time.perf_counter() - start
        timed = benchmark.measure(infer, torch.device('cpu'), args.warmup, args.iters)
        figures[infer_key(batch)] = batch / timed['seconds']
        figures[f'max_rel_diff_b{batch}'] = _worst_difference(
            {name: value.numpy() for name, value in raw.items()}, model, inputs)
    figures['gflop_img'] = _eager_gflop(fast, method.input_size)
    return figures


def _reference_hfl(args: argparse.Namespace, infer: Callable) -> Dict[str, float]:
    """The authors' HFL-Net figures: training step, inference at each batch, MANO."""
    import torch

    from mmhandobj.synthetic import standin_mano_arrays

    benchmark = _sibling('benchmark')
    benchmark_mano = _sibling('benchmark_mano')
    cpu = torch.device('cpu')
    with contextlib.redirect_stdout(sys.stderr):  # their constructors print
        import model as reference_model
        from manopth.manopth import manolayer as reference_manolayer

        mano_data = reference_mano_data(standin_mano_arrays('right', 0))
        reference_manolayer.ready_arguments = lambda _path: mano_data
        mano = reference_manolayer.ManoLayer(ncomps=45, use_pca=False, flat_hand_mean=True,
                                             side='right', center_idx=None)
        torch.manual_seed(0)
        net = reference_model.HONet(mano_layer=mano, roi_res=ROI_SIZE, pretrained=False,
                                    **REFERENCE_TRANSFORMER)
        trainer = reference_model.HOModel(net, **REFERENCE_LOSS_WEIGHTS)

    gen = torch.Generator().manual_seed(0)
    batch = args.batch
    images, hand, obj = timing_inputs(batch, METHODS['hfl'].input_size)
    mano_params = torch.cat([0.3 * torch.randn(batch, 48, generator=gen),
                             torch.randn(batch, 10, generator=gen)], 1)
    targets = dict(joints_uv=torch.rand(batch, 21, 2, generator=gen),
                   obj_p2d_gt=torch.rand(batch, 21, 2, generator=gen),
                   obj_mask=(torch.rand(batch, ROI_SIZE, ROI_SIZE, generator=gen) > 0.5)
                   .float())
    optimizer = torch.optim.Adam([p for p in trainer.parameters() if p.requires_grad],
                                 **REFERENCE_ADAM)

    def train_step() -> None:
        loss, _ = trainer(images, hand, obj, mano_params=mano_params.clone(), **targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    trainer.train()
    train = benchmark.measure(train_step, cpu, args.warmup, args.iters)
    trainer.eval()
    figures = dict(train_img_s=batch / train['seconds'], **infer(net))

    pose = 0.5 * torch.randn(args.mano_batch, 48, generator=gen)
    betas = torch.randn(args.mano_batch, 10, generator=gen)

    def mano_forward_backward() -> None:  # what benchmark_mano.py times on our layer
        verts, joints = mano(pose.clone().requires_grad_(), betas.clone().requires_grad_())
        (verts.sum() + joints.sum()).backward()

    figures['mano_fwd_bwd_ms'] = benchmark_mano.median_ms(mano_forward_backward, cpu,
                                                          warmup=5, repeats=20)
    return figures


def _reference_sho(args: argparse.Namespace, infer: Callable) -> Dict[str, float]:
    """The authors' Semi-Hand-Object inference figures, with the import shims the module
    docstring names."""
    import torch

    from mmhandobj.synthetic import standin_mano_arrays

    sys.path.insert(1, check_manopth(args.manopth))
    mano_data = reference_mano_data(standin_mano_arrays('right', 0))
    loader = ModuleType(MANO_LOADER_MODULE)
    loader.ready_arguments = lambda _path: mano_data
    parts = MANO_LOADER_MODULE.split('.')
    for depth in range(1, len(parts)):
        sys.modules.setdefault('.'.join(parts[:depth]), ModuleType('.'.join(parts[:depth])))
    sys.modules[MANO_LOADER_MODULE] = loader
    with contextlib.redirect_stdout(sys.stderr):
        import models as reference_models
        from utils.manolayer_ho3d import ManoLayer

        mano = ManoLayer(ncomps=45, center_idx=0, flat_hand_mean=True, side='right',
                         use_pca=False)
        torch.manual_seed(0)
        net = reference_models.HONet(roi_res=ROI_SIZE, mano_layer=mano, pretrained=False,
                                     coord_change_mat=torch.tensor(SHO_COORD_CHANGE),
                                     **SHO_NETWORK)
    return infer(net.eval())


def time_reference(args: argparse.Namespace) -> Dict[str, float]:
    """The authors' figures, their network imported from ``--reference-code``."""
    import torch

    benchmark = _sibling('benchmark')
    method = METHODS[args.method]
    root = check_reference_code(args.reference_code, args.method)
    torch.set_num_threads(args.threads)
    sys.path.insert(0, root)

    def infer(net) -> Dict[str, float]:
        """Their eval-mode, no-grad inference at each of ``--infer-batches``."""
        figures = {}
        for batch in args.infer_batches:
            inputs = timing_inputs(batch, method.input_size)

            def forward(inputs=inputs) -> None:
                with torch.no_grad():
                    net(*inputs)

            timed = benchmark.measure(forward, torch.device('cpu'), args.warmup, args.iters)
            figures[infer_key(batch)] = batch / timed['seconds']
        single = timing_inputs(1, method.input_size)
        figures['gflop_img'] = gflop_per_image(lambda: net(*single), 1)
        figures['conv_gflop_s'] = conv_rate(args.warmup, args.iters)
        return figures

    measure = _reference_hfl if args.method == 'hfl' else _reference_sho
    return measure(args, infer)


#: What each side process runs.
SIDE_TIMERS = dict(reference=time_reference, pytorch=time_pytorch,
                   onnxruntime=time_onnxruntime, openvino=time_openvino,
                   compile=time_compile)


def ratios(ours: Dict[str, float], reference: Dict[str, float]) -> Dict[str, float]:
    """Speed-ups of ours over the authors' code (> 1: ours is faster), per shared figure.

    Images/s figures (``*_img_s``): ours / authors; milliseconds (``*_ms``): the authors'
    over ours. Figures only one side has (differences, compile times) are left out.
    """
    shared = [key for key in ours if key in reference]
    return {key: ours[key] / reference[key] if key.endswith('_img_s')
            else reference[key] / ours[key]
            for key in shared if key.endswith(('_img_s', '_ms'))}


def work_and_rate(ours: Dict[str, float], reference: Dict[str, float],
                  batch: int) -> Dict[str, float]:
    """The inference speed-up at ``batch`` as a product of less work and a higher rate.

    ours / authors images/s = (their GFLOPs per image / ours) x (our GFLOP/s / theirs), where
    a side's GFLOP/s is its GFLOPs per image times its images/s.

    Returns:
        dict: ``work`` (their GFLOPs per image over ours), ``rate`` (our GFLOP/s over theirs),
        ``ours_gflop_s`` and ``authors_gflop_s``.
    """
    ours_rate = ours['gflop_img'] * ours[infer_key(batch)]
    their_rate = reference['gflop_img'] * reference[infer_key(batch)]
    return dict(work=reference['gflop_img'] / ours['gflop_img'], rate=ours_rate / their_rate,
                ours_gflop_s=ours_rate, authors_gflop_s=their_rate)


def summarise(rounds: Sequence[Dict[str, float]]) -> Dict[str, Dict[str, float]]:
    """Median, lowest and highest of each ratio over the rounds (:func:`ratios` outputs)."""
    return {key: dict(median=statistics.median(r[key] for r in rounds),
                      low=min(r[key] for r in rounds), high=max(r[key] for r in rounds))
            for key in rounds[0]}


def run_side(side: str, args: argparse.Namespace) -> Dict[str, float]:
    """Run one side's timing in a fresh process and return its figures.

    Raises:
        SystemExit: If that process fails (its stderr's end is printed first).
    """
    command = [sys.executable, osp.abspath(__file__), '--side', side,
               '--method', args.method, '--reference-code', args.reference_code,
               '--config', args.config, '--batch', str(args.batch),
               '--infer-batches', *map(str, args.infer_batches),
               '--mano-batch', str(args.mano_batch), '--threads', str(args.threads),
               '--warmup', str(args.warmup), '--iters', str(args.iters)]
    if args.manopth:
        command += ['--manopth', args.manopth]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT_PREFIX)]
    if done.returncode or not lines:
        print(done.stderr[-3000:], file=sys.stderr)
        who = 'the authors\' code' if side == REFERENCE_SIDE else f'our {side} runtime'
        raise SystemExit(f'error: timing {who} failed (exit code {done.returncode}); its '
                         'error output is above')
    return json.loads(lines[-1][len(RESULT_PREFIX):])


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--reference-code', required=True, metavar='DIR',
                        help=f'a checkout of the authors\' code ({REFERENCE_REPO}, or with '
                        f'--method sho {SHO_REPO})')
    parser.add_argument('--method', choices=sorted(METHODS), default='hfl',
                        help='the network compared (default: %(default)s)')
    parser.add_argument('--runtimes', nargs='+', choices=RUNTIMES, default=DEFAULT_RUNTIMES,
                        help='our inference runtimes, each in its own process (default: '
                        f'{" ".join(DEFAULT_RUNTIMES)})')
    parser.add_argument('--config', default=None,
                        help='our model and optimizer (default: configs/hfl/hfl_r50_ho3d.py, '
                        'with --method sho configs/sho/sho_r50_ho3d.py)')
    parser.add_argument('--manopth', default=None, metavar='DIR',
                        help=f'--method sho: a clone of {MANOPTH_REPO} (Semi-Hand-Object\'s MANO '
                        'layer imports it)')
    parser.add_argument('--batch', type=int, default=8,
                        help='images per training step, HFL-Net (default: 8)')
    parser.add_argument('--infer-batches', type=int, nargs='+', default=None,
                        help='inference batch sizes (default: 8 1, with --method sho 4 1)')
    parser.add_argument('--mano-batch', type=int, default=64,
                        help='hands per MANO call, HFL-Net (default: 64)')
    parser.add_argument('--threads', type=int, default=2,
                        help='CPU threads of each side, onnxruntime\'s intra-op threads '
                        '(default: 2)')
    parser.add_argument('--rounds', type=int, default=3,
                        help='rounds of authors then each runtime, each side in a fresh '
                        'process (default: 3)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed network iterations per mode (default: 1)')
    parser.add_argument('--iters', type=int, default=3,
                        help='timed network iterations per mode (default: 3)')
    parser.add_argument('--side', choices=sorted(SIDE_TIMERS), default=None,
                        help='internal: time one side in this process and print its figures')
    args = parser.parse_args(argv)
    method = METHODS[args.method]
    args.config = args.config or method.config
    args.infer_batches = args.infer_batches or list(method.infer_batches)
    for name in ('batch', 'mano_batch', 'threads', 'rounds', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name.replace("_", "-")} must be at least 1, got '
                         f'{getattr(args, name)}')
    if min(args.infer_batches) < 1:
        parser.error(f'--infer-batches must be at least 1, got {args.infer_batches}')
    if args.warmup < 0:
        parser.error(f'--warmup must be at least 0, got {args.warmup}')
    if args.method == 'sho' and args.manopth is None:
        parser.error(f'--method sho needs --manopth DIR: a clone of {MANOPTH_REPO} '
                     '(Semi-Hand-Object\'s MANO layer imports it)')
    args.runtimes = list(dict.fromkeys(args.runtimes))
    if 'openvino' in args.runtimes and importlib.util.find_spec('openvino') is None:
        parser.error('--runtimes openvino needs OpenVINO: pip install openvino')
    return args


def _print_round(number: int, figures: Dict[str, Dict[str, float]],
                 args: argparse.Namespace) -> None:
    """One line per side of a round: images/s per inference batch and the side's extras."""
    for side, values in figures.items():
        name = 'authors' if side == REFERENCE_SIDE else side
        gflop = values.get('gflop_img')
        cells = [f'infer b{b} {values[infer_key(b)]:.3f} img/s'
                 + (f' ({gflop * values[infer_key(b)]:.0f} GFLOP/s)' if gflop else '')
                 for b in args.infer_batches]
        if gflop:
            cells.append(f'{gflop:.1f} GFLOP/img')
        if 'conv_gflop_s' in values:
            cells.append(f'large 3x3 conv {values["conv_gflop_s"]:.0f} GFLOP/s')
        if 'train_img_s' in values:
            cells.append(f'train b{args.batch} {values["train_img_s"]:.3f} img/s')
        if 'mano_fwd_bwd_ms' in values:
            cells.append(f'MANO fwd+bwd {values["mano_fwd_bwd_ms"]:.2f} ms')
        for batch in args.infer_batches:
            for key, label in ((f'export_s_b{batch}', 'export'),
                               (f'compile_s_b{batch}', 'first call (compile)')):
                if key in values:
                    cells.append(f'{label} b{batch} {values[key]:.1f} s')
        diffs = [values[key] for key in values if key.startswith('max_rel_diff')]
        if diffs:
            cells.append(f'worst rel. diff to eager {max(diffs):.1e}')
        print(f'{number:<6}{name:<12}' + ', '.join(cells))


def main(argv=None) -> List[Dict[str, Dict[str, float]]]:
    """Compare the sides; returns per round ``{runtime: ratios}`` (:func:`ratios`)."""
    args = parse_args(argv)
    check_reference_code(args.reference_code, args.method)
    if args.manopth:
        check_manopth(args.manopth)
    if args.side is not None:
        print(RESULT_PREFIX + json.dumps(SIDE_TIMERS[args.side](args)))
        return []
    method = METHODS[args.method]
    size = method.input_size
    print(f'{method.label}, {size}x{size}, CPU fp32, {args.threads} threads, inference at '
          f'batch {" and ".join(map(str, args.infer_batches))}'
          + (f', training at batch {args.batch}, MANO batch {args.mano_batch}'
             if method.train else '')
          + f'; {args.rounds} rounds of authors, {", ".join(args.runtimes)}, each in a fresh '
          'process')
    figures: Dict[int, Dict[str, Dict[str, float]]] = {}
    for number, side in interleaving(args.rounds, args.runtimes):
        figures.setdefault(number, {})[side] = run_side(side, args)
        if len(figures[number]) == 1 + len(args.runtimes):
            _print_round(number, figures[number], args)
    per_round = [{runtime: ratios(sides[runtime], sides[REFERENCE_SIDE])
                  for runtime in args.runtimes} for sides in figures.values()]
    labels = dict(train_img_s=f'training step b{args.batch}',
                  mano_fwd_bwd_ms='MANO forward+backward',
                  **{infer_key(b): f'inference b{b}' for b in args.infer_batches})
    for runtime in args.runtimes:
        for key, stats in summarise([r[runtime] for r in per_round]).items():
            each = ', '.join(f'{r[runtime][key]:.2f}x' for r in per_round)
            print(f'ours ({runtime}) / authors, {labels[key]:<22} median '
                  f'{stats["median"]:.2f}x, range {stats["low"]:.2f}-{stats["high"]:.2f}x '
                  f'({each})')
        diffs = [value for sides in figures.values() for key, value in sides[runtime].items()
                 if key.startswith('max_rel_diff')]
        print(f'ours ({runtime}), worst relative difference to our eager forward over all '
              f'rounds and batches: {max(diffs):.1e}')
        _print_work_and_rate(runtime, list(figures.values()), args.infer_batches)
    return per_round


def _print_work_and_rate(runtime: str, rounds: Sequence[Dict[str, Dict[str, float]]],
                         batches: Sequence[int]) -> None:
    """Per batch, the inference speed-up as less work times a higher rate
    (:func:`work_and_rate`), medians over the rounds, next to the large convolution's rate."""
    conv = statistics.median(sides[REFERENCE_SIDE]['conv_gflop_s'] for sides in rounds)
    for batch in batches:
        parts = [work_and_rate(sides[runtime], sides[REFERENCE_SIDE], batch)
                 for sides in rounds]
        median = {key: statistics.median(part[key] for part in parts) for key in parts[0]}
        print(f'ours ({runtime}), inference b{batch} = {median["work"]:.2f}x less work '
              f'({rounds[0][runtime]["gflop_img"]:.1f} against '
              f'{rounds[0][REFERENCE_SIDE]["gflop_img"]:.1f} GFLOP per image) x '
              f'{median["rate"]:.2f}x the rate ({median["ours_gflop_s"]:.0f} against '
              f'{median["authors_gflop_s"]:.0f} GFLOP/s; this CPU\'s large 3x3 convolution '
              f'{conv:.0f} GFLOP/s), medians')


if __name__ == '__main__':
    main()
