"""Weight initialisation of the HFL-Net heads and interaction blocks (reference
``model.init_weights``)."""
import copy
from typing import Dict, List

#: Conv N(0, 1e-3), Linear N(0, 1e-2), zero biases, BatchNorm weight 1 / bias 0. Parameters of
#: other kinds (the heatmap temperatures ``betas``, LayerNorm) keep their construction value.
_HFL_HEAD_INIT_CFG: List[Dict] = [
    dict(type='Normal', layer=['Conv2d', 'ConvTranspose2d'], std=0.001, bias=0.0),
    dict(type='Normal', layer='Linear', std=0.01, bias=0.0),
    dict(type='Constant', layer='BatchNorm2d', val=1.0, bias=0.0),
]


def hfl_head_init_cfg() -> List[Dict]:
    """Return a fresh copy of the reference init as an MMEngine ``init_cfg`` list.

    Used by the hand and object heads and by the two interaction blocks of
    :mod:`mmhandobj.models.fusion`.
    """
    return copy.deepcopy(_HFL_HEAD_INIT_CFG)
