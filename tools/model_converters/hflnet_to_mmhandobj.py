"""Convert an authors' HFL-Net checkpoint (lzfff12/HFL-Net) to an mmhandobj ``HFLNet`` one.

The authors save ``{'epoch', 'network', 'state_dict'}`` with every key prefixed
``honet.module.`` (HOModel -> DataParallel -> HONet). Every key of the authors' network maps to
one of ours by a prefix rule (:data:`KEY_PREFIX_MAP`), except the MANO model data
(``mano_branch.mano_layer.th_*``, never stored in our checkpoints) and the constant
``mano_branch.coord_change_mat`` (our HO3D dump does the OpenGL flip), which are dropped.
Unknown or missing keys are errors.
"""
import argparse
import copy
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch

from mmhandobj.structures import OPENCV_TO_OPENGL
from mmhandobj.utils.checkpoint import load_checkpoint_file

#: Authors' key prefix -> mmhandobj ``HFLNet`` key prefix (longest prefix wins).
KEY_PREFIX_MAP: Tuple[Tuple[str, str], ...] = (
    ('base_net.layer0_h.0.', 'backbone.conv1.'),
    ('base_net.layer0_h.1.', 'backbone.bn1.'),
    ('base_net.layer1_h.0.', 'backbone.layer1.'),
    ('base_net.layer2_h.0.', 'backbone.layer2_hand.'),
    ('base_net.layer3_h.0.', 'backbone.layer3_hand.'),
    ('base_net.layer2_o.0.', 'backbone.layer2_obj.'),
    ('base_net.layer3_o.0.', 'backbone.layer3_obj.'),
    ('base_net.layer4_h.0.', 'backbone.layer4.'),
    ('base_net.toplayer_h.', 'neck.hand_fpn.top_conv.'),
    ('base_net.latlayer1_h.', 'neck.hand_fpn.lateral_convs.0.'),
    ('base_net.latlayer2_h.', 'neck.hand_fpn.lateral_convs.1.'),
    ('base_net.latlayer3_h.', 'neck.hand_fpn.lateral_convs.2.'),
    ('base_net.smooth3_h.', 'neck.hand_fpn.smooth_conv.'),
    ('base_net.toplayer_o.', 'neck.obj_fpn.top_conv.'),
    ('base_net.latlayer1_o.', 'neck.obj_fpn.lateral_convs.0.'),
    ('base_net.latlayer2_o.', 'neck.obj_fpn.lateral_convs.1.'),
    ('base_net.latlayer3_o.', 'neck.obj_fpn.lateral_convs.2.'),
    ('base_net.smooth3_o.', 'neck.obj_fpn.smooth_conv.'),
    ('transformer_hand.', 'obj_to_hand_fusion.'),
    ('transformer_obj.', 'hand_to_obj_fusion.'),
    ('hand_head.', 'hand_head.heatmap_head.'),
    ('hand_encoder.', 'hand_head.encoder.'),
    ('mano_branch.', 'hand_head.mano_regressor.'),
    ('obj_head.', 'obj_head.'),
)

#: Authors' keys (or key prefixes, when ending with '.') that hold no learned state.
DROPPED_KEYS: Tuple[str, ...] = ('mano_branch.mano_layer.', 'mano_branch.coord_change_mat')

#: Prefixes the authors' wrappers add (HOModel.honet, DataParallel.module), stripped on input.
WRAPPER_PREFIXES: Tuple[str, ...] = ('honet.module.', 'honet.', 'module.')

#: Model whose state-dict keys a conversion must produce (R50, as the released checkpoints).
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / 'configs/_base_/models/hfl_r50.py'

#: OpenCV -> OpenGL matrix stored by the authors as ``mano_branch.coord_change_mat``.
COORD_CHANGE_MAT = torch.from_numpy(OPENCV_TO_OPENGL).float()


def _map_prefix(key: str, table: Iterable[Tuple[str, str]]) -> Optional[str]:
    """Rename ``key`` by the longest matching prefix of ``table``; None when none matches."""
    best = max((src for src, _ in table if key.startswith(src)), key=len, default=None)
    if best is None:
        return None
    return dict(table)[best] + key[len(best):]


def _strip_wrapper(key: str) -> str:
    for prefix in WRAPPER_PREFIXES:
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def _is_dropped(key: str) -> bool:
    return any(key == d or (d.endswith('.') and key.startswith(d)) for d in DROPPED_KEYS)


def convert_hflnet_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        expected_keys: Optional[Iterable[str]] = None) -> 'OrderedDict[str, torch.Tensor]':
    """Map the authors' ``HONet`` state dict to ``HFLNet`` key names.

    Args:
        state_dict: Authors' tensors, with or without the ``honet.module.`` prefix.
        expected_keys: Our model's state-dict keys; when given, keys of ours that the
            checkpoint does not provide are reported as missing.

    Returns:
        OrderedDict: Our keys -> the same tensors (MANO data and ``coord_change_mat`` dropped).

    Raises:
        KeyError: Listing every unknown (and, with ``expected_keys``, missing) key.
    """
    converted = OrderedDict()
    unknown: List[str] = []
    for raw_key, value in state_dict.items():
        key = _strip_wrapper(raw_key)
        if _is_dropped(key):
            continue
        new_key = _map_prefix(key, KEY_PREFIX_MAP)
        if new_key is None:
            unknown.append(raw_key)
        else:
            converted[new_key] = value
    missing = sorted(set(expected_keys) - set(converted)) if expected_keys is not None else []
    if unknown or missing:
        raise KeyError(f'HFL-Net checkpoint conversion failed: {len(unknown)} unknown key(s) '
                       f'{unknown}; {len(missing)} missing key(s) {missing}')
    return converted


def convert_to_hflnet_state_dict(
        state_dict: Mapping[str, torch.Tensor],
        prefix: str = 'honet.module.') -> 'OrderedDict[str, torch.Tensor]':
    """Reverse map: our ``HFLNet`` state dict -> the authors' layout (for tests/export).

    ``mano_branch.coord_change_mat`` is added (the constant diag(1, -1, -1)); the MANO model
    buffers (``mano_branch.mano_layer.th_*``) are not, as our checkpoints carry no MANO data.

    Args:
        state_dict: ``HFLNet.state_dict()``.
        prefix: Prefix added to every key (the authors' checkpoints use ``honet.module.``).

    Raises:
        KeyError: Listing our keys that have no authors' counterpart.
    """
    reverse = tuple((ours, theirs) for theirs, ours in KEY_PREFIX_MAP)
    out = OrderedDict()
    unknown = []
    for key, value in state_dict.items():
        new_key = _map_prefix(key, reverse)
        if new_key is None:
            unknown.append(key)
        else:
            out[prefix + new_key] = value
    if unknown:
        raise KeyError(f'keys without an HFL-Net counterpart: {unknown}')
    out[prefix + 'mano_branch.coord_change_mat'] = COORD_CHANGE_MAT.clone()
    return out


def load_authors_checkpoint(path: str) -> Dict:
    """Read an authors' checkpoint with the project's safe (weights-only) loader.

    Their checkpoints hold only tensors, ints and strings, so safe loading reads them; for a
    trusted file it refuses, set ``MMHANDOBJ_TRUST_CHECKPOINTS=1``
    (see :mod:`mmhandobj.utils.checkpoint`).
    """
    ckpt = load_checkpoint_file(path, map_location='cpu')
    if not isinstance(ckpt, Mapping):
        raise TypeError(f'{path}: expected a dict checkpoint, got {type(ckpt).__name__}')
    return ckpt


def convert_checkpoint(src: str, dst: str,
                       expected_keys: Optional[Iterable[str]] = None) -> Dict:
    """Convert the checkpoint file ``src`` and save ``{'state_dict', 'meta'}`` to ``dst``.

    Returns:
        dict: The saved checkpoint.
    """
    ckpt = load_authors_checkpoint(src)
    state = ckpt.get('state_dict', ckpt)
    out = dict(
        state_dict=convert_hflnet_state_dict(state, expected_keys),
        meta=dict(source=str(src), converter='tools/model_converters/hflnet_to_mmhandobj.py',
                  epoch=ckpt.get('epoch'), network=ckpt.get('network')))
    torch.save(out, dst)
    return out


def model_state_keys(config: str) -> List[str]:
    """State-dict keys of ``cfg.model`` (built with the stand-in MANO: no MANO file needed,
    MANO buffers are not part of the state dict)."""
    from mmengine.config import Config

    from mmhandobj.registry import MODELS
    model_cfg = copy.deepcopy(Config.fromfile(config).model)
    model_cfg['hand_head']['mano_cfg'] = dict(standin_seed=0)
    return list(MODELS.build(model_cfg).state_dict().keys())


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert an authors\' HFL-Net checkpoint ({epoch, network, state_dict} '
        'with honet.module. keys, e.g. checkpoint_ho3d.pth.tar) to an mmhandobj HFLNet '
        'checkpoint {state_dict, meta}. MANO buffers and coord_change_mat are dropped; '
        'unknown or missing keys abort the conversion. The input is read with safe '
        '(weights-only) unpickling; MMHANDOBJ_TRUST_CHECKPOINTS=1 allows full pickle for '
        'trusted files.')
    parser.add_argument('src', help='authors\' checkpoint (.pth.tar)')
    parser.add_argument('dst', help='output .pth for mmhandobj (load_checkpoint / tools/test.py)')
    parser.add_argument('--config', default=str(DEFAULT_CONFIG),
                        help='mmhandobj config whose model defines the expected keys; keys '
                        'it has and the checkpoint lacks are reported as missing (default: '
                        'the R50 model, configs/_base_/models/hfl_r50.py)')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    expected = model_state_keys(args.config)
    out = convert_checkpoint(args.src, args.dst, expected)
    print(f'wrote {args.dst}: {len(out["state_dict"])} tensors (epoch {out["meta"]["epoch"]})')


if __name__ == '__main__':
    main()
