from .dexycb import (
                     DEXYCB_SETUPS,
                     DEXYCB_SPLITS,
                     convert_dexycb,
                     convert_dexycb_hfl_json,
                     dexycb_split_rule,
)
from .ho3d import HO3D_SPLITS, HO3D_VERSIONS, convert_ho3d

__all__ = [
    'DEXYCB_SETUPS', 'DEXYCB_SPLITS', 'HO3D_SPLITS', 'HO3D_VERSIONS', 'convert_dexycb',
    'convert_dexycb_hfl_json', 'convert_ho3d', 'dexycb_split_rule'
]
