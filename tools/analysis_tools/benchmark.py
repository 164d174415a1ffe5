"""Throughput and peak memory of HFLNet: training step, forward_raw, and predict with PnP.

Random inputs (no dataset): images in [0, 1], fixed overlapping boxes, random targets. Warm-up
iterations are excluded from timing. CUDA timings synchronise before reading the clock.

Each mode runs as the tools run it: ``train`` as ``tools/train.py`` (contiguous layout, the
config's ``optim_wrapper.optimizer``: fused Adam for the R50 configs), ``infer``/``predict`` as
``tools/test.py`` (on an eval copy with the BatchNorms folded into the
convs and channels-last weights, :func:`~mmhandobj.models.inference_optim.optimize_for_inference`).
``--channels-last`` / ``--no-channels-last`` force one layout for every mode, ``--no-fuse-bn``
keeps the BatchNorms, ``--no-p2-windows`` computes the full P2 maps on CPU as well and
``--malloc-default`` keeps glibc's allocator defaults (each default as the tools run).
"""
import argparse
import contextlib
import copy
import resource
import time
from typing import Callable, Dict, List

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.structures import InstanceData

from mmhandobj.engine import apply_process_settings
from mmhandobj.models.inference_optim import optimize_for_inference
from mmhandobj.registry import MODELS
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample
from mmhandobj.utils.tool_config import with_standin_mano

DEFAULT_MODEL_CONFIG = 'configs/hfl/hfl_r50_ho3d.py'
#: Optimizer of a config without ``optim_wrapper`` (a bare model config): the R50 schedules'.
FALLBACK_OPTIMIZER = dict(type='Adam', lr=1e-4, weight_decay=5e-4, fused=True)

#: A small model for quick checks (ResNet-18 trunk, 64-channel FPN and heads).
TINY_OVERRIDES = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512], out_channels=64),
    obj_to_hand_fusion=dict(in_channels=64),
    hand_to_obj_fusion=dict(in_channels=64),
    hand_head=dict(in_channels=64, mano_hidden=[256, 128]),
    obj_head=dict(in_channels=64),
)


#: Hand and object boxes (x1y1x2y2, pixels of a 256x256 input) of the side-by-side speed
#: comparison (compare_with_reference.py feeds them to the authors' network too): both sides
#: crop the same RoIs, so the P2 windows (HandObjectRoIExtractor) cover the same cells.
ANCHOR_HAND_BOX = (40.0, 60.0, 150.0, 200.0)
ANCHOR_OBJ_BOX = (100.0, 80.0, 230.0, 220.0)


def build_model(config: str, tiny: bool, standin_mano: bool) -> torch.nn.Module:
    """Build and initialise ``cfg.model`` (optionally tiny / with the stand-in MANO)."""
    model_cfg = copy.deepcopy(Config.fromfile(config).model)
    if tiny:
        for key, value in TINY_OVERRIDES.items():
            model_cfg[key].update(value)
    if standin_mano:
        model_cfg = with_standin_mano(model_cfg)
    model_cfg.pop('data_preprocessor', None)
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


def build_optimizer(config: str, model: torch.nn.Module) -> torch.optim.Optimizer:
    """The optimizer ``tools/train.py`` would build from ``config`` (its ``optim_wrapper``)."""
    cfg = Config.fromfile(config)
    wrapper = cfg.get('optim_wrapper') or dict(type='OptimWrapper', optimizer=FALLBACK_OPTIMIZER)
    return build_optim_wrapper(model, copy.deepcopy(wrapper)).optimizer


def make_batch(batch: int, height: int, width: int, device: torch.device, mask_size: int,
               seed: int = 0) -> List[HandObjectDataSample]:
    """Random data samples carrying every field ``loss`` and ``predict`` read.

    ``mask_size`` is the side of the object mask target, the RoI extractor's output size.
    The boxes are the anchor's (:data:`ANCHOR_HAND_BOX`, :data:`ANCHOR_OBJ_BOX`) scaled to
    the input size.
    """
    gen = torch.Generator().manual_seed(seed)
    scale = torch.tensor([width, height, width, height]) / 256.0
    hand = torch.tensor([ANCHOR_HAND_BOX]) * scale
    obj = torch.tensor([ANCHOR_OBJ_BOX]) * scale
    samples = []
    for _ in range(batch):
        gt = InstanceData()
        gt.hand_bboxes = hand.clone()
        gt.obj_bboxes = obj.clone()
        gt.hand_joints2d_crop = hand[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * \
            (hand[:, None, 2:] - hand[:, None, :2])
        gt.mano_pose = 0.3 * torch.randn(1, 48, generator=gen)
        gt.mano_shape = torch.randn(1, 10, generator=gen)
        gt.obj_kps2d_crop = obj[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * \
            (obj[:, None, 2:] - obj[:, None, :2])
        gt.obj_mask = (torch.rand(1, mask_size, mask_size, generator=gen) > 0.5).float()
        gt.obj_kps3d = 0.05 * torch.randn(1, 21, 3, generator=gen)
        sample = HandObjectDataSample(metainfo=dict(
            ori_shape=(480, 640), img_shape=(height, width), flip=False,
            crop_affine=np.array([[0.5, 0, 100], [0, 0.5, 50]], np.float32),
            ori_cam_intr=np.array([[600, 0, 320], [0, 600, 240], [0, 0, 1]], np.float32)))
        sample.gt_instances = gt.to(device)
        samples.append(sample)
    return samples


def measure(fn: Callable[[], None], device: torch.device, warmup: int,
            iters: int) -> Dict[str, float]:
    """Seconds per call (after ``warmup`` calls) and peak memory in MiB.

    CUDA: ``max_memory_allocated`` during the timed calls. CPU: the process's peak RSS so far
    (monotonic over the run, so later modes report at least the earlier peaks).
    """
    for _ in range(warmup):
        fn()
    if device.type == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    if device.type == 'cuda':
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() / 2**20
    else:  # peak resident set size of the process so far (Linux reports KiB)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    return dict(seconds=(time.perf_counter() - start) / iters, peak_mib=peak)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark HFLNet: images/s and peak memory of a training step '
        '(forward+backward+Adam), of inference (forward_raw) and of predict (incl. PnP), on '
        'random inputs. CPU peak = process max RSS; '
        'CUDA peak = torch.cuda.max_memory_allocated.')
    parser.add_argument('config', nargs='?', default=DEFAULT_MODEL_CONFIG,
                        help='config with a `model` dict and usually an `optim_wrapper` (else '
                        f'{FALLBACK_OPTIMIZER}) (default {DEFAULT_MODEL_CONFIG})')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    parser.add_argument('--amp', choices=['bf16', 'fp16'], default=None,
                        help='autocast dtype (default fp32)')
    layout = parser.add_mutually_exclusive_group()
    layout.add_argument('--channels-last', action='store_true',
                        help='every mode in torch.channels_last (default: infer/predict only)')
    layout.add_argument('--no-channels-last', action='store_true',
                        help='every mode contiguous (NCHW)')
    parser.add_argument('--no-fuse-bn', action='store_true',
                        help='infer/predict with the BatchNorms (default: folded into the convs)')
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument('--iters', type=int, default=10)
    parser.add_argument('--modes', nargs='+', default=['train', 'infer', 'predict'],
                        choices=['train', 'infer', 'predict'])
    parser.add_argument('--tiny', action='store_true',
                        help='ResNet-18 trunk with 64-channel FPN/heads (quick checks)')
    parser.add_argument('--standin-mano', action='store_true',
                        help='use the generated stand-in MANO model (no MANO file needed)')
    parser.add_argument('--no-p2-windows', action='store_true',
                        help='full P2 maps and torchvision RoIAlign on CPU too (default: P2 only '
                        'in the RoIs\' windows, HandObjectRoIExtractor cpu_windows)')
    parser.add_argument('--malloc-default', action='store_true',
                        help="keep glibc's allocator defaults instead of the config's "
                        'malloc_retain_freed (mmhandobj/utils/cpu_malloc.py)')
    return parser.parse_args(argv)


def main(argv=None) -> Dict[str, Dict[str, float]]:
    """Run the benchmark; returns ``{mode: measure(...)}`` of every mode timed."""
    args = parse_args(argv)
    retained = (False if args.malloc_default else
                apply_process_settings(Config.fromfile(args.config))['malloc_retain_freed'])
    MMLogger.get_instance('benchmark', log_level='WARNING')  # no per-parameter init log
    device = torch.device(args.device)
    if device.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    model = build_model(args.config, args.tiny, args.standin_mano).to(device)
    if args.no_p2_windows:
        model.roi_extractor.cpu_windows = False
    windows = model.roi_extractor.uses_windows(device)
    train_last = args.channels_last
    test_last = not args.no_channels_last
    if train_last:
        model = model.to(memory_format=torch.channels_last)
    test_model = model
    if {'infer', 'predict'} & set(args.modes):
        test_model = optimize_for_inference(copy.deepcopy(model), fuse_bn=not args.no_fuse_bn,
                                            channels_last=test_last)
    h, w = args.shape
    images = torch.rand(args.batch, 3, h, w, device=device)
    train_images = images.to(memory_format=torch.channels_last) if train_last else images
    test_images = images.to(memory_format=torch.channels_last) if test_last else images
    samples = make_batch(args.batch, h, w, device, model.roi_extractor.output_size)
    dtype = dict(bf16=torch.bfloat16, fp16=torch.float16).get(args.amp)
    autocast = (torch.autocast(device.type, dtype=dtype) if dtype is not None
                else contextlib.nullcontext())
    scaler = torch.amp.GradScaler(device.type, enabled=args.amp == 'fp16')
    optimizer = build_optimizer(args.config, model)

    def train_step() -> None:
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            losses = model(train_images, samples, mode='loss')
        scaler.scale(sum(losses.values())).backward()
        scaler.step(optimizer)
        scaler.update()

    def infer() -> None:
        with torch.inference_mode(), autocast:
            test_model(test_images, samples, mode='tensor')

    def predict() -> None:
        with torch.inference_mode(), autocast:
            test_model(test_images, samples, mode='predict')

    steps = dict(train=train_step, infer=infer, predict=predict)
    name = torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'
    print(f'device {device} ({name}), '
          f'batch {args.batch}, input {h}x{w}, amp {args.amp or "fp32"}, channels_last '
          f'train {train_last} test {test_last}, fused BN (test) {not args.no_fuse_bn}, '
          f'tiny {args.tiny}, P2 windows {windows}, malloc retains freed memory {retained}, '
          f'torch {torch.__version__}')
    hyper = {k: optimizer.defaults.get(k) for k in ('lr', 'weight_decay', 'fused', 'foreach')}
    print(f'train optimizer {type(optimizer).__name__} {hyper} (from {args.config})')
    results = {}
    for mode in args.modes:
        if mode == 'train':
            model.train()
        result = results[mode] = measure(steps[mode], device, args.warmup, args.iters)
        kind = 'max_memory_allocated' if device.type == 'cuda' else 'process max RSS'
        print(f'{mode:<8} {args.batch / result["seconds"]:9.2f} img/s  '
              f'{result["seconds"] * 1e3:9.1f} ms/iter  peak {result["peak_mib"]:.0f} MiB '
              f'({kind})')
    return results


if __name__ == '__main__':
    main()
