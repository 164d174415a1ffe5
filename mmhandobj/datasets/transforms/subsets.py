"""Per-frame tags that split an evaluation into subsets: hand occlusion and hand-object distance."""
from typing import Dict, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from scipy.spatial import ConvexHull, QhullError, cKDTree

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures import pinhole_project

from ..annotation_file import decode_mask
from ..object_models import ObjectModelBank


def hand_occlusion(hand_points_img: np.ndarray, obj_mask: np.ndarray) -> float:
    """Fraction of the hand's projected area covered by the object mask.

    The hand's area is the set of image pixels whose centre (integer coordinates, as
    :func:`~mmhandobj.structures.pinhole_project` gives them) lies inside or on the convex hull
    of the projected hand points; only the hull's bounding box is visited.

    Args:
        hand_points_img: ``(N, 2)`` projected hand points (vertices or joints), pixels of the
            original image.
        obj_mask: ``(H, W)`` object mask of the same image, non-zero = object.

    Returns:
        Covered hull pixels / hull pixels, in [0, 1]; NaN when a point is not finite, the
        points span no area or no hull pixel lies in the image.
    """
    points = np.asarray(hand_points_img, np.float64).reshape(-1, 2)
    if len(points) < 3 or not np.isfinite(points).all():
        return float('nan')
    try:
        corners = points[ConvexHull(points).vertices]  # counter-clockwise
    except QhullError:  # collinear or coincident points
        return float('nan')
    height, width = obj_mask.shape[:2]
    lo = np.maximum(np.ceil(corners.min(0)), 0).astype(int)
    hi = np.minimum(np.floor(corners.max(0)) + 1, (width, height)).astype(int)
    if (hi <= lo).any():
        return float('nan')
    grid_u, grid_v = np.meshgrid(np.arange(lo[0], hi[0]), np.arange(lo[1], hi[1]))
    inside = np.ones(grid_u.shape, bool)
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        edge = end - start
        inside &= edge[0] * (grid_v - start[1]) - edge[1] * (grid_u - start[0]) >= 0
    area = int(inside.sum())
    if area == 0:
        return float('nan')
    return int(np.count_nonzero(inside & (obj_mask[lo[1]:hi[1], lo[0]:hi[0]] != 0))) / area


@TRANSFORMS.register_module()
class ComputeHandObjectSubsets(BaseTransform):
    """Tag a frame with its hand occlusion and hand-object distance (for subset metrics).

    From the ground truth of the original, un-mirrored image (so it must run before
    :class:`CanonicalizeHandSide`, after :class:`LoadObjectMask` and, when listed,
    :class:`GenerateHandVertices`):

    * ``hand_occlusion``: :func:`hand_occlusion` of the hand (``hand_verts3d_cam`` when
      present, else the 21 ``hand_joints3d_cam``, whose hull is a little smaller than the
      hand's silhouette) projected with ``ori_cam_intr``, against the visible object pixels:
      ``obj_mask_full`` when :class:`LoadObjectMask` ran, else the frame's ``obj_mask_rle``
      decoded here (and left in place). NaN without a hand, without a mask or with a point at
      depth <= 0.
    * ``hand_obj_distance`` (metres): the smallest distance between those hand points and the
      object's model points (``<obj_model_root>/<obj_name>/points.xyz``) at the GT
      ``obj_pose``; NaN without a hand, an object or a model root. Model points sample the
      surface every few millimetres, so the value is the surface distance to within that
      spacing.

    Required keys: ``ori_cam_intr``; optional: ``has_hand``, ``hand_verts3d_cam`` or
    ``hand_joints3d_cam``, ``obj_mask_full`` or ``obj_mask_rle`` with ``ori_shape``,
    ``has_obj``, ``obj_name``, ``obj_pose``, ``obj_model_root`` (the dataset gives it). Added
    keys: ``hand_occlusion`` and ``hand_obj_distance`` (floats), which
    :class:`PackHandObjectInputs` packs into the metainfo.

    Args:
        obj_model_root: Folder with ``<name>/points.xyz``; None (default): the sample's
            ``obj_model_root``, the dataset's own.
    """

    def __init__(self, obj_model_root: Optional[str] = None) -> None:
        self.obj_model_root = obj_model_root
        self._banks: Dict[str, ObjectModelBank] = {}
        self._trees: Dict[Tuple[str, str], cKDTree] = {}

    @staticmethod
    def _hand_points(results: dict) -> Optional[np.ndarray]:
        """``(N, 3)`` GT hand points in the original camera (metres), or None."""
        if not results.get('has_hand', True):
            return None
        for key in ('hand_verts3d_cam', 'hand_joints3d_cam'):
            if key in results:
                return np.asarray(results[key], np.float64)
        return None

    def _distance(self, results: dict, hand: np.ndarray) -> float:
        root = self.obj_model_root or results.get('obj_model_root')
        if not results.get('has_obj', False) or 'obj_pose' not in results or not root:
            return float('nan')
        key = (root, results['obj_name'])
        if key not in self._trees:
            bank = self._banks.setdefault(root, ObjectModelBank(root))
            self._trees[key] = cKDTree(bank.points64(key[1]))
        pose = np.asarray(results['obj_pose'], np.float64)
        # hand in the model frame: R^T (p - t), as rows: (p - t) @ R
        in_model = (hand - pose[:, 3]) @ pose[:, :3]
        return float(self._trees[key].query(in_model)[0].min())

    @staticmethod
    def _mask(results: dict) -> Optional[np.ndarray]:
        """The ``(H, W)`` object mask of the original image, or None."""
        if 'obj_mask_full' in results:
            return results['obj_mask_full']
        if 'obj_mask_rle' not in results:
            return None
        try:
            return decode_mask(results['obj_mask_rle'], *results['ori_shape'])
        except ValueError as err:
            raise ValueError(f'{results.get("ann_file", "annotation file")}: field "mask_rle" '
                             f'of frame {results.get("frame_key")} ({results.get("img_path")}): '
                             f'{err}; re-run the converter') from None

    def transform(self, results: dict) -> dict:
        hand = self._hand_points(results)
        occlusion = float('nan')
        if hand is not None and (hand[:, 2] > 0).all():
            mask = self._mask(results)
            if mask is not None:
                cam = np.asarray(results['ori_cam_intr'], np.float64)
                occlusion = hand_occlusion(pinhole_project(hand, cam), mask)
        results['hand_occlusion'] = occlusion
        results['hand_obj_distance'] = (float('nan') if hand is None
                                        else self._distance(results, hand))
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(obj_model_root={self.obj_model_root!r})'
