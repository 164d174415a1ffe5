"""Trainable parameters and GMACs of a model config (``HFLNet``, ``SemiHandObject``; inference,
one image).

FLOPs come from ``torch.utils.flop_counter.FlopCounterMode`` (convolutions, linear layers,
matmul/bmm, attention run on the math SDPA kernel so that it is counted as two batched
matmuls); RoIAlign, softmax, normalisation and activations are not counted (negligible),
as in the reference measurement. 1 GMAC = 2 GFLOPs. The table counts the full P2 maps; a last
line gives what the CPU default (P2 only in the RoIs' windows) computes for the demo boxes.
The authors' code computes 0.54 GMAC more than this implementation of HFL-Net R50: the half of
the object-to-hand block's last MLP layer whose output it slices off (not computed here).
"""
import argparse
import contextlib
from collections import defaultdict
from typing import Dict, Iterator, Tuple

import torch
from mmengine.config import Config
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from mmhandobj.registry import MODELS
from mmhandobj.utils.tool_config import with_standin_mano

#: Authors' HFL-Net R50 numbers (spec: measured with their module code, torch 2.13, CPU).
REFERENCE_PARAMS = 46_080_659
REFERENCE_GMAC = 23.19
#: Of those, the object-to-hand block's MLP output channels that the authors compute and then
#: discard: 1024 tokens x 2048 inputs x 256 outputs at 256x256 (RoI 32x32).
REFERENCE_DISCARDED_GMAC = 0.537
DEFAULT_MODEL_CONFIG = 'configs/_base_/models/hfl_r50.py'


def build_model(config: str, standin_mano: bool) -> torch.nn.Module:
    """Build ``cfg.model`` in eval mode (construction-time weights: FLOPs do not depend on
    them); ``standin_mano`` swaps in the generated MANO model."""
    cfg = Config.fromfile(config)
    model_cfg = with_standin_mano(cfg.model) if standin_mano else cfg.model
    return MODELS.build(model_cfg).eval()


def demo_boxes(batch: int, height: int, width: int) -> Tuple[torch.Tensor, torch.Tensor]:
    """Overlapping hand and object boxes covering about half of an HxW input (pixels)."""
    hand = torch.tensor([0.1 * width, 0.15 * height, 0.6 * width, 0.7 * height])
    obj = torch.tensor([0.35 * width, 0.3 * height, 0.9 * width, 0.9 * height])
    return hand.expand(batch, 4).clone(), obj.expand(batch, 4).clone()


@contextlib.contextmanager
def counting(depth: int = 2) -> Iterator[FlopCounterMode]:
    """Count the FLOPs of what runs in the block: no gradients, attention on the math kernel
    (two batched matmuls the counter sees; the fused CPU kernel is not counted by it).

    Yields:
        FlopCounterMode: Read ``get_total_flops()`` / ``get_flop_counts()`` after the block.
    """
    counter = FlopCounterMode(display=False, depth=depth)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), counter:
        yield counter


def count_flops(model: torch.nn.Module, shape: Tuple[int, int],
                windows: bool = False) -> Tuple[int, Dict[str, int]]:
    """FLOPs of ``model.forward_raw`` on one (3, H, W) image: total and per top-level module.

    ``windows=False`` counts the architecture (full P2 maps, as the reference measurement);
    ``True`` what the CPU default runs (P2 only in the demo boxes' windows).
    """
    model.roi_extractor.cpu_windows = windows
    images = torch.rand(1, 3, *shape)
    hand, obj = demo_boxes(1, *shape)
    with counting() as counter:
        model.forward_raw(images, hand, obj)
    # FlopCounterMode names the children of the called module by their class names.
    child_names = {type(child).__name__: name for name, child in model.named_children()}
    per_module: Dict[str, int] = defaultdict(int)
    for name, ops in counter.get_flop_counts().items():
        if name in child_names:
            per_module[child_names[name]] += sum(ops.values())
    return counter.get_total_flops(), dict(per_module)


def trainable_params(model: torch.nn.Module) -> Tuple[int, Dict[str, int]]:
    """Trainable parameters: total and per top-level child."""
    per = {name: sum(p.numel() for p in child.parameters() if p.requires_grad)
           for name, child in model.named_children()}
    return sum(p.numel() for p in model.parameters() if p.requires_grad), per


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Print the trainable parameters and GMACs (FlopCounterMode; GMAC = '
        'GFLOPs / 2) of a model config (HFLNet, SemiHandObject) for one image, per '
        'top-level module, next to the authors\' HFL-Net R50 reference (46,080,659 params, '
        '~23.19 GMAC at 256x256).')
    parser.add_argument('config', nargs='?', default=DEFAULT_MODEL_CONFIG,
                        help=f'config with a `model` dict (default {DEFAULT_MODEL_CONFIG})')
    parser.add_argument('--shape', type=int, nargs=2, default=[256, 256],
                        metavar=('H', 'W'), help='input size in pixels (default 256 256)')
    parser.add_argument('--standin-mano', action='store_true',
                        help='use the generated stand-in MANO model (no MANO file needed; '
                        'MANO has no trainable parameters and negligible FLOPs)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    model = build_model(args.config, args.standin_mano)
    params, per_params = trainable_params(model)
    flops, per_flops = count_flops(model, tuple(args.shape))
    print(f'config: {args.config}  input: 3x{args.shape[0]}x{args.shape[1]}')
    print(f'{"module":<22}{"params":>14}{"GMAC":>10}')
    for name in per_params:
        print(f'{name:<22}{per_params[name]:>14,}{per_flops.get(name, 0) / 2e9:>10.3f}')
    print(f'{"total":<22}{params:>14,}{flops / 2e9:>10.3f}')
    print(f'reference (authors, R50, 256x256): params {REFERENCE_PARAMS:,}, '
          f'~{REFERENCE_GMAC} GMAC, {REFERENCE_DISCARDED_GMAC} of them discarded outputs not '
          f'computed here; ratio params {params / REFERENCE_PARAMS:.6f}, GMAC '
          f'{flops / 2e9 / (REFERENCE_GMAC - REFERENCE_DISCARDED_GMAC):.4f} of the rest')
    windowed, per_windowed = count_flops(model, tuple(args.shape), windows=True)
    print(f'run on CPU with P2 windows (the default) for these boxes: {windowed / 2e9:.3f} '
          f'GMAC, neck {per_windowed.get("neck", 0) / 2e9:.3f}')


if __name__ == '__main__':
    main()
