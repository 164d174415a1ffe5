"""The one table of hand joint orders and fingertip vertex ids.

Two 21-joint orders occur in this field:

* ``'mano'`` (MANO-native, also HO3D's ``handJoints3D`` and ``pred.json`` order): 0 wrist,
  1-3 index MCP/PIP/DIP, 4-6 middle, 7-9 pinky, 10-12 ring, 13-15 thumb, 16-20 tips
  (thumb, index, middle, ring, pinky).
* ``'simple'`` (manopth's output order, DexYCB ``joint_3d``, OpenPose-like): 0 wrist,
  1-4 thumb (CMC/MCP/IP/tip), 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky
  (MCP, PIP, DIP, tip).

``simple = mano[MANO_TO_SIMPLE]`` and ``mano = simple[SIMPLE_TO_MANO]``. Everything inside the
model uses the simple order; conversions happen only at dataset and metric boundaries.
"""
from typing import Dict, List, Tuple

import numpy as np

JOINT_ORDERS: Tuple[str, ...] = ('mano', 'simple')

#: Index list that turns MANO-native order into the simple order: ``simple = mano[MANO_TO_SIMPLE]``.
MANO_TO_SIMPLE: List[int] = [
    0, 13, 14, 15, 16, 1, 2, 3, 17, 4, 5, 6, 18, 10, 11, 12, 19, 7, 8, 9, 20]
#: Inverse permutation: ``mano = simple[SIMPLE_TO_MANO]``.
SIMPLE_TO_MANO: List[int] = [int(i) for i in np.argsort(MANO_TO_SIMPLE)]

#: Fingertip vertex ids (thumb, index, middle, ring, pinky) per convention and side.
FINGERTIP_VERTS: Dict[str, Dict[str, List[int]]] = {
    'manopth': {'right': [745, 317, 444, 556, 673], 'left': [745, 317, 445, 556, 673]},
    'ho3d': {'right': [744, 333, 444, 555, 672], 'left': [744, 333, 444, 555, 672]},
    'smplx': {'right': [744, 320, 443, 554, 671], 'left': [744, 320, 443, 554, 671]},
    # Semi-Hand-Object's MANO layer (its ``utils/manolayer_ho3d.py``, "adapted to HO3D")
    'sho': {'right': [728, 353, 442, 576, 694], 'left': [728, 353, 442, 576, 694]},
}

#: Parent of each joint in the simple order (-1 for the wrist); used to draw skeletons.
SIMPLE_PARENTS: List[int] = [-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19]


def convert_joint_order(joints: np.ndarray, src: str, dst: str) -> np.ndarray:
    """Reorder 21 joints between the ``'mano'`` and ``'simple'`` orders.

    Args:
        joints: ``(..., 21, D)`` array or tensor in order ``src``.
        src: Order of ``joints``, one of :data:`JOINT_ORDERS`.
        dst: Wanted order, one of :data:`JOINT_ORDERS`.

    Returns:
        ``(..., 21, D)`` joints in order ``dst`` (a new array; the input is untouched).
    """
    for name in (src, dst):
        if name not in JOINT_ORDERS:
            raise ValueError(f'unknown joint order {name!r}; expected one of {JOINT_ORDERS}')
    if joints.shape[-2] != 21:
        raise ValueError(f'expected 21 joints on axis -2, got shape {tuple(joints.shape)}')
    if src == dst:
        return joints[..., :, :].copy() if isinstance(joints, np.ndarray) else joints.clone()
    index = MANO_TO_SIMPLE if src == 'mano' else SIMPLE_TO_MANO
    return joints[..., index, :]
