from .camera import pinhole_project
from .hand_object_data_sample import HandObjectDataSample
from .joint_orders import (
                           FINGERTIP_VERTS,
                           JOINT_ORDERS,
                           MANO_TO_SIMPLE,
                           SIMPLE_PARENTS,
                           SIMPLE_TO_MANO,
                           convert_joint_order,
)
from .object_keypoints import BBOX21_NAMES, bbox21_from_points, object_diameter

__all__ = [
    'pinhole_project',
    'BBOX21_NAMES', 'bbox21_from_points', 'object_diameter',
    'HandObjectDataSample', 'FINGERTIP_VERTS', 'JOINT_ORDERS', 'MANO_TO_SIMPLE', 'SIMPLE_PARENTS',
    'SIMPLE_TO_MANO', 'convert_joint_order'
]
