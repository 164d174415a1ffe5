"""Crop selection (with jitter) and the single affine warp of every 2D/3D quantity."""
from typing import Sequence, Tuple, Union

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures.geometry import transform_points_2d

from .geometry import bbox_from_points, fuse_boxes, rotate_axis_angle, rotated_crop

_INTERPOLATIONS = {'nearest': cv2.INTER_NEAREST, 'bilinear': cv2.INTER_LINEAR}


def hand_points(results: dict) -> Union[np.ndarray, None]:
    """2D points that define the hand: GT joints, else the ``hand_box_hint`` corners."""
    if 'joints2d' in results:
        return np.asarray(results['joints2d'], np.float32)
    if 'hand_box_hint' in results:
        return np.asarray(results['hand_box_hint'], np.float32).reshape(2, 2)
    return None


def object_points(results: dict) -> Union[np.ndarray, None]:
    """2D points that define the object: GT keypoints, else the ``obj_box_hint`` corners."""
    if 'obj_kps2d' in results:
        return results['obj_kps2d']
    if 'obj_box_hint' in results:
        return np.asarray(results['obj_box_hint'], np.float32).reshape(2, 2)
    return None


@TRANSFORMS.register_module()
class GetHandObjectCrop(BaseTransform):
    """Choose the square crop around hand and object, with optional jitter.

    As the reference: ``docs/reference_parity.md`` R18-R19 (training), R23 (test).

    ``crop = fuse(bbox(hand points, 1.5), bbox(object points, 1.5))``. Hand points are the GT
    joints, or the two ``hand_box_hint`` corners (HO3D evaluation, inference); object points
    the GT keypoints, or the two ``obj_box_hint`` corners (inference). A frame with only one of
    hand/object uses that one alone; with neither, the whole image. Jitter (training): centre
    ``+= shift_factor * s * U(-1, 1)`` per axis, scale ``*= clip(1 + scale_factor N(0, 1),
    1 - scale_factor, 1 + scale_factor)``, rotation by ``rot_mode``:

    * ``'uniform'`` (HO3D): ``U(-rot_factor, rot_factor)`` with probability ``rot_prob``;
    * ``'gaussian'`` (DexYCB): ``clip(N(0, 1), -2, 2) * rot_factor`` with prob. ``rot_prob``;
    * ``'none'``: no rotation.

    Required keys: ``ori_shape`` and ``joints2d`` / ``hand_box_hint`` / ``obj_kps2d`` /
    ``obj_box_hint`` (any; boxes x1y1x2y2 in original-image pixels).
    Added keys: ``crop_center`` ((2,) px), ``crop_scale`` (px), ``crop_rotation`` (radians).

    Args:
        expand: Box expansion factor of hand and object before fusing.
        shift_factor: Centre jitter as a fraction of the crop side (0 = off).
        scale_factor: Scale jitter (0 = off).
        rot_mode: ``'uniform'``, ``'gaussian'`` or ``'none'``.
        rot_factor: Radians (uniform half-range or Gaussian sigma).
        rot_prob: Probability of rotating.
    """

    def __init__(self, expand: float = 1.5, shift_factor: float = 0.0,
                 scale_factor: float = 0.0, rot_mode: str = 'none', rot_factor: float = 0.0,
                 rot_prob: float = 1.0) -> None:
        if rot_mode not in ('uniform', 'gaussian', 'none'):
            raise ValueError(f"rot_mode must be 'uniform', 'gaussian' or 'none', got {rot_mode!r}")
        self.expand = expand
        self.shift_factor = shift_factor
        self.scale_factor = scale_factor
        self.rot_mode = rot_mode
        self.rot_factor = rot_factor
        self.rot_prob = rot_prob

    def _rotation(self) -> float:
        if self.rot_mode == 'none' or np.random.rand() >= self.rot_prob:
            return 0.0
        if self.rot_mode == 'uniform':
            return float(np.random.uniform(-self.rot_factor, self.rot_factor))
        return float(np.clip(np.random.randn(), -2.0, 2.0) * self.rot_factor)

    def transform(self, results: dict) -> dict:
        height, width = results['ori_shape']
        boxes = []
        for pts in (hand_points(results), object_points(results)):
            if pts is not None:
                if not np.isfinite(pts).all():
                    raise ValueError(f'{results.get("img_path")}: NaN/inf in hand or object '
                                     '2D points')
                boxes.append(bbox_from_points(pts, self.expand))
        if not boxes:
            boxes = [np.array([0, 0, width, height], np.float32)]
        try:
            centre, scale = fuse_boxes(boxes[0], boxes[-1], (width, height))
        except ValueError as err:
            raise ValueError(f'{results.get("img_path")}: {err}') from err
        if self.shift_factor:
            centre = centre + self.shift_factor * scale * np.random.uniform(-1, 1, 2)
        if self.scale_factor:
            scale *= float(np.clip(1 + self.scale_factor * np.random.randn(),
                                   1 - self.scale_factor, 1 + self.scale_factor))
        results.update(crop_center=centre.astype(np.float64), crop_scale=scale,
                       crop_rotation=self._rotation())
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(expand={self.expand}, shift_factor={self.shift_factor}, '
                f'scale_factor={self.scale_factor}, rot_mode={self.rot_mode!r}, '
                f'rot_factor={self.rot_factor}, rot_prob={self.rot_prob})')


@TRANSFORMS.register_module()
class HandObjectAffine(BaseTransform):
    """Apply the one crop affine to the image, mask, 2D points, intrinsics and MANO orient.

    With ``R2`` the camera roll by ``crop_rotation`` and ``total``/``K'`` from
    :func:`~mmhandobj.datasets.transforms.geometry.rotated_crop`: the image and the full-size
    object mask are warped with ``cv2.warpAffine(total)`` (mask always nearest, black border),
    2D points are mapped by ``total``, ``cam_intr = K'`` and the MANO global orient becomes
    ``rotvec(R2 Rot(aa))``. The camera frame is OpenCV everywhere (HO3D is converted at the
    dataset boundary), so no extra ``C`` appears here. 3D ground truth stays in the original
    camera; ``R2`` is kept as ``crop_roll`` for consumers.

    Required keys: ``img``, ``crop_center``, ``crop_scale``, ``crop_rotation``, ``cam_intr``.
    Optional keys (transformed): ``obj_mask_full`` -> ``obj_mask_crop`` ((h, w) uint8),
    ``joints2d``, ``obj_kps2d``, ``hand_box_hint`` (-> ``hand_points_crop`` (2, 2)),
    ``obj_box_hint`` (-> ``obj_points_crop`` (2, 2)),
    ``mano_pose``. Added keys: ``crop_affine`` ((2, 3) float32), ``crop_roll`` ((3, 3)),
    ``img_shape``. Modified keys: ``img`` ((h, w, 3)), ``cam_intr``.

    Args:
        input_size: Output ``(W, H)`` (an int for a square).
        interpolation: Image interpolation, ``'nearest'`` (reference) or ``'bilinear'``.
    """

    def __init__(self, input_size: Union[int, Sequence[int]] = 256,
                 interpolation: str = 'nearest') -> None:
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f'interpolation must be one of {tuple(_INTERPOLATIONS)}, '
                             f'got {interpolation!r}')
        self.input_size: Tuple[int, int] = (
            (input_size, input_size) if isinstance(input_size, int) else tuple(input_size))
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        total, cam_intr, roll = rotated_crop(
            results['cam_intr'], results['crop_center'], results['crop_scale'],
            results['crop_rotation'], self.input_size)
        affine = total[:2].astype(np.float32)
        results['img'] = cv2.warpAffine(
            results['img'], affine, self.input_size,
            flags=_INTERPOLATIONS[self.interpolation], borderMode=cv2.BORDER_CONSTANT,
            borderValue=0)
        if 'obj_mask_full' in results:
            results['obj_mask_crop'] = cv2.warpAffine(
                results.pop('obj_mask_full'), affine, self.input_size,
                flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        for key in ('joints2d', 'obj_kps2d'):
            if key in results:
                results[key] = transform_points_2d(results[key], total).astype(np.float32)
        for hint, out in (('hand_box_hint', 'hand_points_crop'),
                          ('obj_box_hint', 'obj_points_crop')):
            if hint in results:
                results[out] = transform_points_2d(
                    np.reshape(results[hint], (2, 2)), total).astype(np.float32)
        if 'mano_pose' in results:
            pose = np.array(results['mano_pose'], np.float32)
            pose[:3] = rotate_axis_angle(pose[:3], roll)
            results['mano_pose'] = pose
        results.update(cam_intr=cam_intr.astype(np.float32), crop_affine=affine,
                       crop_roll=roll.astype(np.float32),
                       img_shape=(self.input_size[1], self.input_size[0]))
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(input_size={self.input_size}, '
                f'interpolation={self.interpolation!r})')
