"""GPU readiness check: training precisions and layouts, inference batches, DDP, ONNX on CUDA.

Runs the R50 HFL-Net (stand-in MANO, random inputs from ``benchmark.py``) on the first CUDA
device and prints images/s and peak memory (``max_memory_allocated``, MiB) per step. After each
step every parameter, gradient and output must be on that device; otherwise it exits with
status 1 naming the tensor. Without a CUDA device it refuses (status 2). ``--dry-run`` prints
the plan and exits without touching a GPU.

Example:
    python tools/analysis_tools/gpu_check.py              # called by gpu_check.sh
    python tools/analysis_tools/gpu_check.py --dry-run
"""
import argparse
import os
import sys
import tempfile
from typing import Iterable, List, Tuple

import torch

from tools.analysis_tools.benchmark import (
    DEFAULT_MODEL_CONFIG,
    build_model,
    build_optimizer,
    make_batch,
    measure,
)

#: Training batch (images) and input size (pixels) of the R50 configs.
TRAIN_BATCH = 64
INPUT_SHAPE = (256, 256)
INFER_BATCHES = (1, 8, 64)
#: Warm-up and timed iterations per step (few: the whole check stays under 8 minutes).
WARMUP, ITERS = 2, 5
#: Precisions of the training steps (None: fp32).
PRECISIONS = (None, 'bf16', 'fp16')


def plan(compile_offered: bool, num_gpus: int, ort_cuda: bool) -> List[Tuple[str, dict]]:
    """The steps to run: ``(kind, settings)`` with kind train, infer, ddp or onnx."""
    steps = [('train', dict(amp=amp, channels_last=last, compile=False))
             for amp in PRECISIONS for last in (False, True)]
    if compile_offered:
        steps.append(('train', dict(amp='bf16', channels_last=True, compile=True)))
    steps += [('infer', dict(batch=batch)) for batch in INFER_BATCHES]
    if num_gpus >= 2:
        steps.append(('ddp', dict(world_size=2, backend='nccl')))
    if ort_cuda:
        steps.append(('onnx', dict(provider='CUDAExecutionProvider', batch=8)))
    return steps


def check_devices(named: Iterable[Tuple[str, torch.Tensor]], device: torch.device,
                  step: str) -> None:
    """Exit with status 1 naming the first tensor not on ``device``."""
    for name, tensor in named:
        if tensor is not None and tensor.device != device:
            raise SystemExit(f'device mismatch in {step}: {name} is on {tensor.device}, '
                             f'expected {device}')


def _ort_cuda() -> bool:
    try:
        import onnxruntime
    except ImportError:
        return False
    return 'CUDAExecutionProvider' in onnxruntime.get_available_providers()


def _train(settings: dict, device: torch.device, config: str) -> str:
    model = build_model(config, tiny=False, standin_mano=True).to(device).train()
    images = torch.rand(TRAIN_BATCH, 3, *INPUT_SHAPE, device=device)
    if settings['channels_last']:
        model = model.to(memory_format=torch.channels_last)
        images = images.to(memory_format=torch.channels_last)
    samples = make_batch(TRAIN_BATCH, *INPUT_SHAPE, device, model.roi_extractor.output_size)
    optimizer = build_optimizer(config, model)
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(settings['amp'])
    scaler = torch.amp.GradScaler('cuda', enabled=settings['amp'] == 'fp16')
    loss_fn = torch.compile(model) if settings['compile'] else model

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast('cuda', dtype=dtype, enabled=dtype is not None):
            losses = loss_fn(images, samples, mode='loss')
        check_devices(losses.items(), device, 'train losses')
        scaler.scale(sum(losses.values())).backward()
        scaler.step(optimizer)
        scaler.update()

    result = measure(step, device, WARMUP, ITERS)
    check_devices(model.named_parameters(), device, 'train parameters')
    check_devices(((n, p.grad) for n, p in model.named_parameters()), device, 'train grads')
    return f'{TRAIN_BATCH / result["seconds"]:.1f} img/s, peak {result["peak_mib"]:.0f} MiB'


def _infer(settings: dict, device: torch.device, config: str) -> str:
    model = build_model(config, tiny=False, standin_mano=True).to(device).eval()
    batch = settings['batch']
    images = torch.rand(batch, 3, *INPUT_SHAPE, device=device)
    samples = make_batch(batch, *INPUT_SHAPE, device, model.roi_extractor.output_size)
    outputs = {}

    def step() -> None:
        with torch.inference_mode():
            outputs.update(model(images, samples, mode='tensor'))

    result = measure(step, device, WARMUP, ITERS)
    check_devices(outputs.items(), device, 'inference outputs')
    return f'{batch / result["seconds"]:.1f} img/s, peak {result["peak_mib"]:.0f} MiB'


def _ddp_worker(rank: int, world_size: int, port: int, config: str) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    torch.distributed.init_process_group('nccl', rank=rank, world_size=world_size)
    device = torch.device('cuda', rank)
    torch.cuda.set_device(device)
    model = build_model(config, tiny=False, standin_mano=True).to(device).train()
    ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank])
    samples = make_batch(8, *INPUT_SHAPE, device, model.roi_extractor.output_size)
    losses = ddp(torch.rand(8, 3, *INPUT_SHAPE, device=device), samples, mode='loss')
    sum(losses.values()).backward()
    check_devices(((n, p.grad) for n, p in model.named_parameters()), device, 'DDP grads')
    torch.distributed.destroy_process_group()


def _ddp(settings: dict, device: torch.device, config: str) -> str:
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    torch.multiprocessing.spawn(_ddp_worker, args=(settings['world_size'], port, config),
                                nprocs=settings['world_size'])
    return 'one step on 2 GPUs, gradients on each rank\'s device'


def _onnx(settings: dict, device: torch.device, config: str) -> str:
    from mmhandobj.apis.onnx_backend import create_session, export_onnx, random_inputs
    model = build_model(config, tiny=False, standin_mano=True).eval()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, 'model.onnx')
        names = export_onnx(model, path, INPUT_SHAPE, batch=settings['batch'])
        session = create_session(path, providers=[settings['provider']])
        if session.get_providers()[0] != settings['provider']:
            raise SystemExit(f'onnxruntime fell back to {session.get_providers()}')
        inputs = random_inputs(settings['batch'], INPUT_SHAPE)
        feeds = {i.name: t.numpy() for i, t in zip(session.get_inputs(), inputs)}
        result = measure(lambda: session.run(None, feeds), device, WARMUP, ITERS)
    return f'{len(names)} outputs, {settings["batch"] / result["seconds"]:.1f} img/s'


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--config', default=DEFAULT_MODEL_CONFIG)
    parser.add_argument('--dry-run', action='store_true', help='print the plan only')
    args = parser.parse_args(argv)
    cuda = torch.cuda.is_available()
    steps = plan(hasattr(torch, 'compile'), torch.cuda.device_count() if cuda else 0,
                 _ort_cuda())
    if args.dry_run:
        for kind, settings in steps:
            print(kind, settings)
        return
    if not cuda:
        print('gpu_check: no CUDA device is available (torch.cuda.is_available() is False); '
              'run it on a machine with an NVIDIA GPU', file=sys.stderr)
        raise SystemExit(2)
    device = torch.device('cuda', 0)
    torch.backends.cudnn.benchmark = True
    print(f'{torch.cuda.get_device_name(device)}, torch {torch.__version__}')
    run = dict(train=_train, infer=_infer, ddp=_ddp, onnx=_onnx)
    for kind, settings in steps:
        print(f'{kind} {settings}: {run[kind](settings, device, args.config)}', flush=True)
        torch.cuda.empty_cache()
    print('gpu_check: all steps passed')


if __name__ == '__main__':
    main()
