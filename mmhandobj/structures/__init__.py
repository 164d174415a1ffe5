from .hand_object_data_sample import HandObjectDataSample
from .joint_orders import (FINGERTIP_VERTS, JOINT_ORDERS, MANO_TO_SIMPLE, SIMPLE_PARENTS,
                           SIMPLE_TO_MANO, convert_joint_order)

__all__ = [
    'HandObjectDataSample', 'FINGERTIP_VERTS', 'JOINT_ORDERS', 'MANO_TO_SIMPLE', 'SIMPLE_PARENTS',
    'SIMPLE_TO_MANO', 'convert_joint_order'
]
