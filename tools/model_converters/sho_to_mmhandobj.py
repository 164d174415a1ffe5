"""Convert a Semi-Hand-Object checkpoint (stevenlsw/Semi-Hand-Object) to an mmhandobj
``SemiHandObject`` one.

SHO saves ``{'epoch', 'network', 'state_dict'}`` with every key prefixed ``honet.module.``
(HOModel -> DataParallel -> HONet); ``tests/data/sho_state_dict.txt`` lists every key of its
network with its shape. Every key maps to one of ours by a prefix rule (:data:`KEY_PREFIX_MAP`),
except (:data:`DROPPED_KEYS`):

- ``base_net.smooth1.*`` / ``base_net.smooth2.*``: SHO smooths P4 and P3 but returns only P2 to
  the RoI heads, so these two convs (1,180,160 parameters) never reach an output; our FPN does
  not build them.
- ``mano_branch.mano_layer.*``: MANO model data, never stored in our checkpoints.
- ``mano_branch.coord_change_mat``: the OpenCV -> OpenGL constant of SHO's HO3D output; our
  HO3D dump does that flip.

Unknown or missing keys are errors.
"""
import argparse
from pathlib import Path
from typing import Dict, Iterable, Optional, Tuple

import torch

from mmhandobj.structures import OPENCV_TO_OPENGL
from mmhandobj.utils.key_map import (
    PrefixKeyMap,
    convert_checkpoint_file,
    converter_arg_parser,
    run_converter,
)

#: SHO's key prefix -> mmhandobj ``SemiHandObject`` key prefix (longest prefix wins).
KEY_PREFIX_MAP: Tuple[Tuple[str, str], ...] = (
    ('base_net.layer0.0.', 'backbone.conv1.'),
    ('base_net.layer0.1.', 'backbone.bn1.'),
    ('base_net.layer1.0.', 'backbone.layer1.'),
    ('base_net.layer2.0.', 'backbone.layer2.'),
    ('base_net.layer3.0.', 'backbone.layer3.'),
    ('base_net.layer4.0.', 'backbone.layer4.'),
    ('base_net.toplayer.', 'neck.fpn.top_conv.'),
    ('base_net.latlayer1.', 'neck.fpn.lateral_convs.0.'),
    ('base_net.latlayer2.', 'neck.fpn.lateral_convs.1.'),
    ('base_net.latlayer3.', 'neck.fpn.lateral_convs.2.'),
    ('base_net.smooth3.', 'neck.fpn.smooth_conv.'),
    ('transformer.', 'hand_to_obj_fusion.'),
    ('hand_head.', 'hand_head.heatmap_head.'),
    ('hand_encoder.', 'hand_head.encoder.'),
    ('mano_branch.', 'hand_head.mano_regressor.'),
    ('obj_head.', 'obj_head.'),
)

#: SHO keys (or key prefixes, when ending with '.') that hold no state of ours.
DROPPED_KEYS: Tuple[str, ...] = ('base_net.smooth1.', 'base_net.smooth2.',
                                 'mano_branch.mano_layer.', 'mano_branch.coord_change_mat')

#: Trainable parameters of SHO's network (its checkpoints) and of ours (without the two unread
#: smoothing convs, 2 x 590,080).
SHO_PARAMS = 34_480_019
OUR_PARAMS = 33_299_859

#: Model whose state-dict keys a conversion must produce (R50, as the released checkpoint).
#: This converter, as recorded in the converted checkpoint's ``meta``.
CONVERTER = 'tools/model_converters/sho_to_mmhandobj.py'
DEFAULT_CONFIG = Path(__file__).resolve().parents[2] / 'configs/_base_/models/sho_r50.py'

#: OpenCV -> OpenGL matrix stored by SHO as ``mano_branch.coord_change_mat``.
COORD_CHANGE_MAT = torch.from_numpy(OPENCV_TO_OPENGL).float()

#: SHO's layout as a key map.
SHO_KEY_MAP = PrefixKeyMap(
    name='Semi-Hand-Object', prefixes=KEY_PREFIX_MAP, dropped=DROPPED_KEYS,
    export_constants={'mano_branch.coord_change_mat': COORD_CHANGE_MAT})


def convert_checkpoint(src: str, dst: str,
                       expected_keys: Optional[Iterable[str]] = None) -> Dict:
    """Convert the checkpoint file ``src`` and save ``{'state_dict', 'meta'}`` to ``dst``."""
    return convert_checkpoint_file(SHO_KEY_MAP, src, dst,
                                   CONVERTER, expected_keys)


def parse_args(argv=None) -> argparse.Namespace:
    parser = converter_arg_parser(
        'Convert a Semi-Hand-Object checkpoint ({epoch, network, state_dict} with '
        'honet.module. keys, e.g. the released HO3D model) to an mmhandobj SemiHandObject '
        'checkpoint {state_dict, meta}. The two unread FPN smoothing convs, the MANO buffers '
        'and coord_change_mat are dropped; unknown or missing keys abort the conversion. The '
        'input is read with safe (weights-only) unpickling; MMHANDOBJ_TRUST_CHECKPOINTS=1 '
        'allows full pickle for trusted files.',
        src_help='SHO checkpoint (.pth.tar)', default_config=DEFAULT_CONFIG)
    return parser.parse_args(argv)


def main(argv=None) -> None:
    args = parse_args(argv)
    out = run_converter(SHO_KEY_MAP, CONVERTER, args)
    print(f'wrote {args.dst}: {len(out["state_dict"])} tensors (epoch {out["meta"]["epoch"]})')


if __name__ == '__main__':
    main()
