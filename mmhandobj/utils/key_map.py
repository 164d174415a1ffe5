"""Prefix key maps between other projects' checkpoints and mmhandobj models.

A :class:`PrefixKeyMap` renames every key of a foreign state dict by its longest matching
prefix, drops the keys that hold no learned state of ours, and refuses (listing them) keys it
does not know and keys our model expects but the checkpoint lacks. The converters in
``tools/model_converters/`` are tables for it.
"""
import argparse
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch

from .checkpoint import load_checkpoint_file
from .paths import refuse_overwrite
from .tool_config import with_standin_mano


def rename_by_prefix(key: str, table: Iterable[Tuple[str, str]]) -> Optional[str]:
    """Rename ``key`` by the longest matching source prefix of ``table``; None if none does."""
    table = tuple(table)
    best = max((src for src, _ in table if key.startswith(src)), key=len, default=None)
    if best is None:
        return None
    return dict(table)[best] + key[len(best):]


@dataclass(frozen=True)
class PrefixKeyMap:
    """A foreign network's state-dict layout, as prefix renames onto one of our models.

    Attributes:
        name (str): The foreign project, used in error messages.
        prefixes (tuple): ``(foreign prefix, our prefix)`` pairs (longest prefix wins).
        dropped (tuple): Foreign keys, or key prefixes when ending with ``'.'``, that hold no
            state of ours (MANO model data, constants, modules whose output nothing reads).
        wrappers (tuple): Prefixes the foreign training wrappers add, stripped on input.
        export_constants (dict): Foreign keys -> tensors added when exporting to the foreign
            layout (constants we do not store).
    """

    name: str
    prefixes: Tuple[Tuple[str, str], ...]
    dropped: Tuple[str, ...] = ()
    wrappers: Tuple[str, ...] = ('honet.module.', 'honet.', 'module.')
    export_constants: Dict[str, torch.Tensor] = field(default_factory=dict)

    def strip_wrapper(self, key: str) -> str:
        for prefix in self.wrappers:
            if key.startswith(prefix):
                return key[len(prefix):]
        return key

    def is_dropped(self, key: str) -> bool:
        return any(key == d or (d.endswith('.') and key.startswith(d)) for d in self.dropped)

    def to_ours(self, state_dict: Mapping[str, torch.Tensor],
                expected_keys: Optional[Iterable[str]] = None
                ) -> 'OrderedDict[str, torch.Tensor]':
        """Map a foreign state dict to our key names (the same tensors).

        Args:
            state_dict: Foreign tensors, with or without the wrapper prefixes.
            expected_keys: Our model's state-dict keys; when given, keys of ours that the
                checkpoint does not provide are reported as missing.

        Raises:
            KeyError: Listing every unknown (and, with ``expected_keys``, missing) key.
        """
        converted = OrderedDict()
        unknown: List[str] = []
        for raw_key, value in state_dict.items():
            key = self.strip_wrapper(raw_key)
            if self.is_dropped(key):
                continue
            new_key = rename_by_prefix(key, self.prefixes)
            if new_key is None:
                unknown.append(raw_key)
            else:
                converted[new_key] = value
        missing = (sorted(set(expected_keys) - set(converted))
                   if expected_keys is not None else [])
        if unknown or missing:
            raise KeyError(f'{self.name} checkpoint conversion failed: {len(unknown)} unknown '
                           f'key(s) {unknown}; {len(missing)} missing key(s) {missing}')
        return converted

    def to_foreign(self, state_dict: Mapping[str, torch.Tensor],
                   prefix: str = 'honet.module.') -> 'OrderedDict[str, torch.Tensor]':
        """Reverse map: our state dict -> the foreign layout (for tests and export).

        Dropped keys are not produced, except :attr:`export_constants`.

        Args:
            state_dict: Our model's state dict.
            prefix: Prefix added to every key.

        Raises:
            KeyError: Listing our keys that have no foreign counterpart.
        """
        reverse = tuple((ours, theirs) for theirs, ours in self.prefixes)
        out = OrderedDict()
        unknown = []
        for key, value in state_dict.items():
            new_key = rename_by_prefix(key, reverse)
            if new_key is None:
                unknown.append(key)
            else:
                out[prefix + new_key] = value
        if unknown:
            raise KeyError(f'keys without a {self.name} counterpart: {unknown}')
        for key, value in self.export_constants.items():
            out[prefix + key] = value.clone()
        return out


def load_foreign_checkpoint(path: str) -> Dict:
    """Read another project's checkpoint with the project's safe (weights-only) loader.

    Such checkpoints usually hold only tensors, ints and strings; for a trusted file the safe
    loader refuses, set ``MMHANDOBJ_TRUST_CHECKPOINTS=1`` (see :mod:`mmhandobj.utils.checkpoint`).

    Raises:
        TypeError: The file does not hold a dict.
    """
    ckpt = load_checkpoint_file(path, map_location='cpu')
    if not isinstance(ckpt, Mapping):
        raise TypeError(f'{path}: expected a dict checkpoint, got {type(ckpt).__name__}')
    return ckpt


def convert_checkpoint_file(key_map: PrefixKeyMap, src: str, dst: str, converter: str,
                            expected_keys: Optional[Iterable[str]] = None) -> Dict:
    """Convert the checkpoint file ``src`` and save ``{'state_dict', 'meta'}`` to ``dst``.

    ``meta`` records the source path, the ``converter`` and the foreign ``epoch``/``network``.

    Returns:
        dict: The saved checkpoint.
    """
    ckpt = load_foreign_checkpoint(src)
    state = ckpt.get('state_dict', ckpt)
    out = dict(
        state_dict=key_map.to_ours(state, expected_keys),
        meta=dict(source=str(src), converter=converter, epoch=ckpt.get('epoch'),
                  network=ckpt.get('network')))
    torch.save(out, dst)
    return out


def model_state_keys(config: str) -> List[str]:
    """State-dict keys of ``cfg.model`` (built with the stand-in MANO: no MANO file needed,
    MANO buffers are not part of the state dict)."""
    from mmengine.config import Config

    from mmhandobj.registry import MODELS
    model_cfg = with_standin_mano(Config.fromfile(config).model)
    return list(MODELS.build(model_cfg).state_dict().keys())


def converter_arg_parser(description: str, src_help: str,
                         default_config: str) -> argparse.ArgumentParser:
    """The command line every converter in ``tools/model_converters/`` takes:
    ``SRC DST [--config CONFIG]`` (``CONFIG``'s model defines the expected keys)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument('src', help=src_help)
    parser.add_argument('dst', help='output .pth for mmhandobj (load_checkpoint / tools/test.py)')
    parser.add_argument('--config', default=str(default_config),
                        help='mmhandobj config whose model defines the expected keys; keys '
                        'it has and the checkpoint lacks are reported as missing (default: '
                        f'{default_config})')
    return parser


def run_converter(key_map: PrefixKeyMap, converter: str, args: argparse.Namespace) -> Dict:
    """Convert ``args.src`` to ``args.dst`` against ``args.config``'s keys (the ``main`` of
    every converter); returns the saved checkpoint."""
    refuse_overwrite([args.src, args.config], [args.dst])
    return convert_checkpoint_file(key_map, args.src, args.dst, converter,
                                   model_state_keys(args.config))
