"""Convert an authors' HFL-Net checkpoint (lzfff12/HFL-Net) to an mmhandobj ``HFLNet`` one.

The authors save ``{'epoch', 'network', 'state_dict'}`` with every key prefixed
``honet.module.`` (HOModel -> DataParallel -> HONet). Every key of the authors' network maps to
one of ours by a prefix rule (:data:`KEY_PREFIX_MAP`), except the MANO model data
(``mano_branch.mano_layer.th_*``, never stored in our checkpoints) and the constant
``mano_branch.coord_change_mat`` (our HO3D dump does the OpenGL flip), which are dropped.
Unknown or missing keys are errors, except the CBAM gates of the interaction blocks
(:data:`INITIALISED_PREFIXES`, e.g. ``--config configs/hfl/hfl_r50_cbam_ho3d.py``): the authors'
network has none, so those keys are left out of the converted checkpoint and listed; a
fine-tuning run that loads it (``load_from``, non-strict) keeps their initialisation.
"""
import argparse
from collections import OrderedDict
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

import torch

from mmhandobj.structures import OPENCV_TO_OPENGL
from mmhandobj.utils.key_map import (
    PrefixKeyMap,
    convert_checkpoint_file,
    converter_arg_parser,
    model_state_keys,
)

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

#: Our key prefixes the authors' network has no counterpart for: modules of our variants
#: (CBAM before the interaction blocks) that keep their initialisation when missing.
INITIALISED_PREFIXES: Tuple[str, ...] = ('obj_to_hand_fusion.cbam.', 'hand_to_obj_fusion.cbam.')

#: Model whose state-dict keys a conversion must produce (R50, as the released checkpoints).
#: This converter, as recorded in the converted checkpoint's ``meta``.
CONVERTER = 'tools/model_converters/hflnet_to_mmhandobj.py'
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / 'configs/_base_/models/hfl_r50.py'

#: OpenCV -> OpenGL matrix stored by the authors as ``mano_branch.coord_change_mat``.
COORD_CHANGE_MAT = torch.from_numpy(OPENCV_TO_OPENGL).float()


#: The authors' layout as a key map.
HFLNET_KEY_MAP = PrefixKeyMap(
    name='HFL-Net', prefixes=KEY_PREFIX_MAP, dropped=DROPPED_KEYS, wrappers=WRAPPER_PREFIXES,
    export_constants={'mano_branch.coord_change_mat': COORD_CHANGE_MAT})


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
    return HFLNET_KEY_MAP.to_ours(state_dict, expected_keys)


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
    return HFLNET_KEY_MAP.to_foreign(state_dict, prefix)


def convert_checkpoint(src: str, dst: str,
                       expected_keys: Optional[Iterable[str]] = None) -> Dict:
    """Convert the checkpoint file ``src`` and save ``{'state_dict', 'meta'}`` to ``dst``."""
    return convert_checkpoint_file(HFLNET_KEY_MAP, src, dst,
                                   CONVERTER,
                                   expected_keys)


def split_initialised_keys(expected_keys: Iterable[str]) -> Tuple[List[str], List[str]]:
    """``(required, initialised)``: our keys a conversion must provide, and those under
    :data:`INITIALISED_PREFIXES` that may stay at their initialisation."""
    required, initialised = [], []
    for key in expected_keys:
        (initialised if key.startswith(INITIALISED_PREFIXES) else required).append(key)
    return required, initialised


def parse_args(argv=None) -> argparse.Namespace:
    parser = converter_arg_parser(
        'Convert an authors\' HFL-Net checkpoint ({epoch, network, state_dict} '
        'with honet.module. keys, e.g. checkpoint_ho3d.pth.tar) to an mmhandobj HFLNet '
        'checkpoint {state_dict, meta}. MANO buffers and coord_change_mat are dropped; '
        'unknown or missing keys abort the conversion, except the CBAM keys of a CBAM '
        'config, which are listed and left to their initialisation. The input is read with '
        'safe (weights-only) unpickling; MMHANDOBJ_TRUST_CHECKPOINTS=1 allows full pickle for '
        'trusted files.',
        src_help='authors\' checkpoint (.pth.tar)', default_config=DEFAULT_CONFIG)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    required, initialised = split_initialised_keys(model_state_keys(args.config))
    out = convert_checkpoint(args.src, args.dst, required)
    left = [key for key in initialised if key not in out['state_dict']]
    print(f'wrote {args.dst}: {len(out["state_dict"])} tensors (epoch {out["meta"]["epoch"]})')
    if left:
        print(f'{len(left)} key(s) of {args.config} have no counterpart in the authors\' '
              'checkpoint and are left to their initialisation (load non-strict, e.g. '
              'load_from):')
        for key in left:
            print(f'  {key}')


if __name__ == '__main__':
    main()
