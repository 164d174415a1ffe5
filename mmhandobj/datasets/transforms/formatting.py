"""Packing a sample into network inputs and a :class:`HandObjectDataSample`."""
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import InstanceData

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures import HandObjectDataSample

#: results key -> (gt_instances field, trailing shape) for fields packed when present.
_GT_FIELDS = (
    ('hand_bbox', 'hand_bboxes', (4, )),
    ('obj_bbox', 'obj_bboxes', (4, )),
    ('joints2d', 'hand_joints2d_crop', (21, 2)),
    ('mano_pose', 'mano_pose', (48, )),
    ('mano_shape', 'mano_shape', (10, )),
    ('obj_kps2d', 'obj_kps2d_crop', (21, 2)),
    ('obj_mask', 'obj_mask', None),
    ('hand_joints3d_cam', 'hand_joints3d_cam', (21, 3)),
    ('root_joint', 'root_joint', (3, )),
    ('hand_verts3d_cam', 'hand_verts3d_cam', (778, 3)),
    ('obj_pose', 'obj_pose', (3, 4)),
    ('obj_kps3d', 'obj_kps3d', (21, 3)),
    ('obj_diameter', 'obj_diameter', ()),
)
_HAND_ONLY = ('joints2d', 'mano_pose', 'mano_shape', 'hand_joints3d_cam')
_META_KEYS = ('img_path', 'sample_idx', 'dataset_name', 'ori_shape', 'img_shape', 'hand_side',
              'flip', 'cam_intr', 'ori_cam_intr', 'crop_affine', 'obj_name', 'obj_cls')
#: Metainfo keys packed when present (subset tags of ComputeHandObjectSubsets).
_OPTIONAL_META_KEYS = ('hand_occlusion', 'hand_obj_distance')


@TRANSFORMS.register_module()
class PackHandObjectInputs(BaseTransform):
    """Pack the image and annotations per the :class:`HandObjectDataSample` contract.

    Required keys: ``img`` ((h, w, 3) uint8 BGR), the metainfo keys ``img_path``,
    ``sample_idx``, ``dataset_name``, ``ori_shape``, ``img_shape``, ``hand_side``, ``flip``,
    ``cam_intr``, ``ori_cam_intr``, ``crop_affine`` (``obj_name``/``obj_cls`` default to
    ``''``/0); ``hand_occlusion`` and ``hand_obj_distance`` (floats) when present. Packed
    when present (``gt_instances``, leading dimension 1, float32 tensors;
    results key -> field): ``hand_bbox`` -> ``hand_bboxes``, ``obj_bbox`` -> ``obj_bboxes``,
    ``joints2d`` (crop pixels by now) -> ``hand_joints2d_crop``, ``obj_kps2d`` ->
    ``obj_kps2d_crop``, and under their own names ``mano_pose``, ``mano_shape``, ``obj_mask``,
    ``hand_joints3d_cam``, ``root_joint``, ``hand_verts3d_cam``, ``obj_pose``, ``obj_kps3d``,
    ``obj_diameter``;
    hand fields are packed only when ``has_hand`` is true.

    Returns:
        ``dict(inputs=uint8 tensor (3, h, w) BGR, data_samples=HandObjectDataSample)``.
    """

    def transform(self, results: dict) -> dict:
        if 'mano_pose_offset' in results:
            raise KeyError('mano_pose is still relative to mano_pose_offset: put '
                           'CanonicalizeHandSide in the pipeline before PackHandObjectInputs')
        img = results['img']
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        meta = {}
        for key in _META_KEYS:
            if key in results:
                meta[key] = results[key]
            elif key == 'obj_name':
                meta[key] = ''
            elif key == 'obj_cls':
                meta[key] = 0
            else:
                raise KeyError(f'{results.get("img_path")}: PackHandObjectInputs needs key '
                               f'{key!r} (missing transform?)')
        meta.update((key, float(results[key])) for key in _OPTIONAL_META_KEYS if key in results)
        for key in ('cam_intr', 'ori_cam_intr', 'crop_affine'):
            meta[key] = np.asarray(meta[key], np.float32)
        gt = InstanceData()
        has_hand = results.get('has_hand', True)
        for key, field, shape in _GT_FIELDS:
            if key not in results or (key in _HAND_ONLY and not has_hand):
                continue
            value = np.asarray(results[key], np.float32)
            if shape is not None and value.shape != shape:
                raise ValueError(f'{results.get("img_path")}: {key} has shape {value.shape}, '
                                 f'expected {shape}')
            gt.set_field(torch.from_numpy(value.copy())[None], field)
        sample = HandObjectDataSample(metainfo=meta)
        sample.gt_instances = gt
        return dict(inputs=inputs, data_samples=sample)
