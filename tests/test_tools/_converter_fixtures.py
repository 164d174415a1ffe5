"""Shared by the checkpoint-converter tests: load a converter script, read a key listing, and
build a model whose every state entry differs from its initialisation."""
from pathlib import Path
from types import ModuleType
from typing import Dict, Tuple

import torch
from repo_scripts import load_script

from mmhandobj.registry import MODELS


def load_converter(name: str) -> ModuleType:
    """Import ``tools/model_converters/<name>.py`` as a module."""
    return load_script(f'tools/model_converters/{name}.py')


def read_key_shapes(path: Path) -> Dict[str, Tuple[int, ...]]:
    """``key -> shape`` of a state-dict listing (``key AxBxC dtype`` lines, ``#`` comments)."""
    shapes = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith('#'):
            key, shape, _ = line.split()
            shapes[key] = () if shape == 'scalar' else tuple(int(v) for v in shape.split('x'))
    return shapes


def randomised(cfg: dict, seed: int) -> torch.nn.Module:
    """``MODELS.build(cfg)`` in eval mode with every float state entry perturbed (BatchNorm
    variances drawn in [0.5, 1.5]), so that a wrong key mapping changes the outputs."""
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if tensor.is_floating_point():
                if name.endswith('running_var'):
                    tensor.uniform_(0.5, 1.5)
                else:
                    tensor.add_(0.05 * torch.randn_like(tensor))
    return model.eval()
