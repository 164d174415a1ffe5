from .bbox import box_area, box_iou
from .detection_classes import (
                       DET_CATEGORIES,
                       DET_CATEGORY_IDS,
                       HAND_CATEGORY_IDS,
                       LEFT_HAND_ID,
                       NUM_DET_CLASSES,
                       RIGHT_HAND_ID,
                       category_side_or_name,
                       is_hand_category,
                       object_category_id,
)
from .geometry import (
                       OPENCV_TO_OPENGL,
                       REP_DEPTH_EPS,
                       box_normalised_to_pixels,
                       crop_to_image,
                       image_to_crop,
                       mirror_axis_angle,
                       mirror_box,
                       mirror_intrinsics,
                       mirror_points_2d,
                       mirror_points_3d,
                       opencv_to_opengl,
                       pinhole_project,
                       pixels_to_box_normalised,
                       transform_points_2d,
                       transform_points_3d,
)
from .hand_object_data_sample import HandObjectDataSample
from .joint_orders import (
                       FINGERTIP_VERTS,
                       JOINT_ORDERS,
                       MANO_TO_SIMPLE,
                       SIMPLE_PARENTS,
                       SIMPLE_TO_MANO,
                       convert_joint_order,
)
from .object_classes import YCB_CLASS_IDS, YCB_CLASSES
from .object_keypoints import BBOX21_NAMES, DIAMETER_MODES, bbox21_from_points, object_diameter
from .sample_fields import get_instance, get_meta, sample_name, to_float64

__all__ = [
    'OPENCV_TO_OPENGL', 'REP_DEPTH_EPS', 'box_normalised_to_pixels', 'crop_to_image',
    'image_to_crop', 'mirror_axis_angle', 'mirror_box', 'mirror_intrinsics', 'mirror_points_2d',
    'mirror_points_3d', 'opencv_to_opengl', 'pinhole_project', 'pixels_to_box_normalised',
    'transform_points_2d', 'transform_points_3d',
    'BBOX21_NAMES', 'DIAMETER_MODES', 'bbox21_from_points', 'object_diameter',
    'HandObjectDataSample', 'FINGERTIP_VERTS', 'JOINT_ORDERS', 'MANO_TO_SIMPLE', 'SIMPLE_PARENTS',
    'SIMPLE_TO_MANO', 'convert_joint_order', 'box_area', 'box_iou',
    'DET_CATEGORIES', 'DET_CATEGORY_IDS', 'HAND_CATEGORY_IDS', 'LEFT_HAND_ID', 'NUM_DET_CLASSES',
    'RIGHT_HAND_ID', 'category_side_or_name', 'is_hand_category', 'object_category_id',
    'YCB_CLASSES', 'YCB_CLASS_IDS', 'get_instance', 'get_meta', 'sample_name', 'to_float64'
]
