"""Left-to-right hand canonicalisation."""
import numpy as np
from mmcv.transforms import BaseTransform

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures.geometry import (
    mirror_axis_angle,
    mirror_box,
    mirror_intrinsics,
    mirror_points_2d,
)


@TRANSFORMS.register_module()
class CanonicalizeHandSide(BaseTransform):
    """Mirror left-hand frames to right hands and form the flat-hand-mean MANO pose.

    For a left hand (``hand_side == 'left'``) the image is flipped horizontally
    (``u' = W - 1 - u``) with its 2D annotations, the MANO pose is mirrored by negating the y and
    z components of all 16 axis-angles, and the intrinsics become those of the mirrored camera
    (``cx' = W - 1 - cx``, so that the mirrored 3D points ``(-x, y, z)`` project exactly onto the
    mirrored 2D points; the reference kept K, exact only when ``cx = (W - 1) / 2``). 3D ground
    truth (``hand_joints3d_cam``, ``root_joint``, ``obj_pose``) stays in the original camera.
    Then, for every frame, the finger pose becomes flat-hand-mean:
    ``mano_pose[3:] += mano_pose_offset`` (DexYCB: ``hands_mean_right`` added after mirroring,
    as the reference; HO3D: zeros).

    Required keys: ``hand_side``, ``ori_cam_intr``, ``ori_shape``. Optional keys: ``mano_pose``
    with ``mano_pose_offset`` (absent at inference); mirrored when present: ``img``,
    ``obj_mask_full``, ``joints2d``, ``obj_kps2d``, ``hand_box_hint``, ``obj_box_hint``. Added
    keys: ``flip`` (bool), ``cam_intr`` ((3, 3) float32, intrinsics of the possibly mirrored
    image). Modified keys: the mirrored ones and ``mano_pose`` ((48,) flat-hand-mean, right
    hand). Removed keys: ``mano_pose_offset``, ``mano_pose_flat``.
    """

    def transform(self, results: dict) -> dict:
        cam = np.asarray(results['ori_cam_intr'], np.float64)
        pose = (np.asarray(results['mano_pose'], np.float32).copy()
                if 'mano_pose' in results else None)
        flip = results['hand_side'] == 'left'
        if flip:
            width = results['ori_shape'][1]
            cam = mirror_intrinsics(cam, width)
            for key in ('img', 'obj_mask_full'):
                if key in results:
                    results[key] = np.ascontiguousarray(results[key][:, ::-1])
            for key in ('joints2d', 'obj_kps2d'):
                if key in results:
                    results[key] = mirror_points_2d(
                        np.asarray(results[key], np.float32), width)
            for key in ('hand_box_hint', 'obj_box_hint'):
                if key in results:
                    results[key] = mirror_box(results[key], width)
            if pose is not None:
                pose = mirror_axis_angle(pose)
        if pose is not None:
            pose[3:] += np.asarray(results.pop('mano_pose_offset'), np.float32)
            results['mano_pose'] = pose
        results.pop('mano_pose_flat', None)
        results.update(flip=flip, cam_intr=cam.astype(np.float32))
        return results
