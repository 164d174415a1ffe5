"""Batched numpy implementations of the hand and object metrics of the official scorers."""
from .alignment import (
    ALIGNMENTS,
    ProcrustesTransform,
    align_points,
    align_procrustes,
    align_scale_translation,
    align_umeyama,
    apply_procrustes_transform,
    procrustes_transform,
)
from .array_utils import (
    NAN_POLICIES,
    check_points,
    check_same_shape,
    finite_sample_mask,
    to_float64,
)
from .fscore import (
    HO3D_FSCORE_THRESHOLDS,
    fscore,
    fscore_from_distances,
    fscore_multi,
    nearest_neighbour_distances,
)
from .hand_frames import root_relative_to_camera
from .ho3d_scorer import (
    HO3D_EVAL_SIZES,
    HO3D_GT_FILES,
    HO3D_SCORE_KEYS,
    format_ho3d_scores,
    ho3d_scores,
    load_ho3d_gt,
    load_ho3d_pred,
)
from .keypoint_error import (
    KEYPOINT_2D_AUC_MAX_PX,
    KEYPOINT_2D_PCK_THRESHOLDS_PX,
    Keypoint2DMeasures,
    PointErrorMeasures,
    keypoint_2d_measures,
    mpjpe,
    pck_curves,
    point_distances,
    point_error_measures,
    trapezoid,
)
from .mesh_geometry import (
    WINDING_INSIDE,
    hole_caps,
    inside_lattice,
    lattice_winding,
    point_mesh_distance,
    winding_numbers,
)
from .object_pose import add_error, adds_error, center_error, reprojection_error
from .physical import (
    ObjectContactGrid,
    hand_object_distance,
    intersection_volume,
    intersection_volume_obman,
    penetration_depth,
    surface_voxels,
)

__all__ = [
    'ALIGNMENTS', 'ProcrustesTransform', 'align_points', 'align_procrustes',
    'align_scale_translation', 'align_umeyama', 'apply_procrustes_transform',
    'procrustes_transform', 'NAN_POLICIES', 'check_points', 'check_same_shape',
    'finite_sample_mask', 'to_float64', 'HO3D_FSCORE_THRESHOLDS', 'fscore',
    'fscore_from_distances', 'fscore_multi', 'nearest_neighbour_distances',
    'root_relative_to_camera', 'HO3D_EVAL_SIZES', 'HO3D_GT_FILES', 'HO3D_SCORE_KEYS',
    'format_ho3d_scores', 'ho3d_scores', 'load_ho3d_gt', 'load_ho3d_pred', 'KEYPOINT_2D_AUC_MAX_PX',
    'KEYPOINT_2D_PCK_THRESHOLDS_PX', 'Keypoint2DMeasures', 'keypoint_2d_measures',
    'PointErrorMeasures',
    'mpjpe', 'pck_curves', 'point_distances', 'point_error_measures', 'trapezoid',
    'add_error', 'adds_error', 'center_error', 'reprojection_error',
    'WINDING_INSIDE', 'hole_caps', 'inside_lattice', 'lattice_winding', 'point_mesh_distance',
    'winding_numbers', 'ObjectContactGrid', 'hand_object_distance', 'intersection_volume',
    'intersection_volume_obman', 'penetration_depth', 'surface_voxels'
]
