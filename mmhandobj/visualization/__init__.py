from .drawing import (
    FINGER_COLORS,
    WRIST_COLOR,
    draw_mesh,
    draw_polygon,
    draw_segments,
    draw_skeleton,
)
from .geometry import BOX_EDGES, box_corners, project_to_image
from .hand_object_visualizer import HandObjectVisualizer, find_mano_layer

__all__ = [
    'FINGER_COLORS', 'WRIST_COLOR', 'draw_mesh', 'draw_polygon', 'draw_segments',
    'draw_skeleton', 'BOX_EDGES', 'box_corners', 'project_to_image',
    'HandObjectVisualizer', 'find_mano_layer'
]
