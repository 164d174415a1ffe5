"""Data sample passed between the pipeline, the model and the metrics.

This module is the contract between ``PackHandObjectInputs`` (producer), the model (consumer of
``gt_instances``; its heads' ``predict`` produce ``pred_instances``), the metrics and the
visualiser (consumers of both).

Every image holds exactly one hand and one object, so ``gt_instances`` and ``pred_instances``
are ``InstanceData`` of length 1 (leading dimension 1 on every field), as in mmpose.

Frames and units: metres, OpenCV camera (x right, y down, z forward). "Crop" means the
network input (``img_shape``, 256x256 by default), cut from the image after the left-to-right
mirror when ``flip``; "original image" means the image file as read (never mirrored).

``metainfo`` (plain Python / numpy values):
    img_path (str), sample_idx (int, index in the dataset = order of the server dump),
    dataset_name (str, ``'ho3d'``|``'dexycb'``), ori_shape ((H, W)), img_shape ((h, w)),
    hand_side (str, ``'right'``|``'left'``, the real side), flip (bool, True when the image and
    labels were mirrored to a right hand), cam_intr (3x3 float32, intrinsics of the crop, in the
    mirrored frame when flip), ori_cam_intr (3x3 float32, intrinsics of the original image),
    crop_affine (2x3 float32, maps (possibly mirrored) image pixels to crop pixels),
    obj_name (str, YCB name), obj_cls (int, DexYCB ``_YCB_CLASSES`` id, 0 when unknown).

Naming rule: a 2D quantity's name ends with its pixel frame, ``_crop`` (network-input
pixels, the mirrored frame when ``flip``) or ``_img`` (original-image pixels, never mirrored);
a 3D hand quantity ends with ``_cam`` when it is absolute in the original camera (never
mirrored), and has no suffix when it is wrist-centred in the network frame (what the heads
predict). A name means the same quantity in the same frame in ``gt_instances`` and
``pred_instances``, so ``gt_instances.hand_joints3d_cam`` and ``pred_instances.hand_joints3d``
differ by the wrist and, when ``flip``, the mirror
(:func:`~mmhandobj.evaluation.functional.root_relative_to_camera` maps the second onto the
first's frame). The object pose is one name per representation: ``obj_pose`` ([R|t]) in the
ground truth, ``obj_rot`` / ``obj_trans`` in the prediction, both model -> original camera.

``gt_instances`` (float32 tensors after packing; a field may be absent when the split has no GT).
The first block are model INPUTS (known at test time and at inference, as in mmpose):

=================== ============= =========================================================
field               shape         meaning, unit, frame
=================== ============= =========================================================
hand_bboxes         (1, 4)        hand RoI box x1y1x2y2, crop pixels (input)
obj_bboxes          (1, 4)        object RoI box x1y1x2y2, crop pixels (input)
obj_kps3d           (1, 21, 3)    the 21 box keypoints, object model frame, metres (input:
                                  the object identity; absent when unknown)
root_joint          (1, 3)        wrist, metres, original camera, not mirrored (input at
                                  inference when known; GT otherwise)
hand_joints2d_crop  (1, 21, 2)    hand joints, crop pixels, simple order
obj_kps2d_crop      (1, 21, 2)    the 21 object box keypoints, crop pixels
mano_pose           (1, 48)       MANO axis-angle, flat-hand-mean, right hand (mirrored when
                                  flip), global orient in the crop camera (rotation
                                  augmentation applied)
mano_shape          (1, 10)       MANO betas
obj_mask            (1, 32, 32)   object mask inside ``obj_bboxes`` (1 = object), float
hand_joints3d_cam   (1, 21, 3)    hand joints, metres, original camera, simple order, absolute,
                                  not mirrored
hand_verts3d_cam    (1, 778, 3)   hand vertices, metres, original camera, not mirrored
obj_pose            (1, 3, 4)     object [R|t] model -> original camera, metres, not mirrored
obj_diameter        (1,)          object "diameter", metres (the dataset's ``diameter_mode``)
=================== ============= =========================================================

``pred_instances`` (numpy arrays, filled by the heads' ``predict`` and merged by the model):

=================== ============= =========================================================
field               shape         meaning, unit, frame
=================== ============= =========================================================
hand_joints3d       (1, 21, 3)    metres, wrist-centred, simple order, network frame
                                  (mirrored when flip;
                                  :func:`~mmhandobj.evaluation.functional.
                                  root_relative_to_camera` un-mirrors and adds a root)
hand_verts3d        (1, 778, 3)   metres, wrist-centred, same frame as ``hand_joints3d``
hand_joints2d_crop  (1, 21, 2)    hand joints, crop pixels (as the GT field)
hand_joints2d_img   (1, 21, 2)    hand joints, original-image pixels (un-mirrored)
mano_pose           (1, 48)       predicted MANO axis-angle (network frame)
mano_shape          (1, 10)       predicted MANO betas
hand_root           (1, 3)        wrist, metres, original camera (OpenCV axes), solved from
                                  the 3D and 2D joints (:func:`~mmhandobj.structures.geometry.
                                  solve_hand_root`); NaN when no fit lies in front of the camera
obj_kps2d_crop      (1, 21, 2)    most confident vote per keypoint, crop pixels
obj_kps2d_img       (1, 21, 2)    the same, original-image pixels (un-mirrored)
obj_rot             (1, 3, 3)     object rotation, model -> original camera (only when
                                  ``gt_instances.obj_kps3d`` is given)
obj_trans           (1, 3)        object translation, metres, same condition
=================== ============= =========================================================

Maps between the frames: :func:`mmhandobj.structures.geometry.crop_to_image` /
:func:`~mmhandobj.structures.geometry.image_to_crop` with metainfo ``crop_affine``, ``flip`` and
``ori_shape`` (:meth:`HandObjectDataSample.crop_to_image` reads them for you).
"""
import numpy as np
from mmengine.structures import BaseDataElement, InstanceData

from .geometry import crop_to_image


class HandObjectDataSample(BaseDataElement):
    """One hand-object image: metainfo plus ``gt_instances`` and ``pred_instances``.

    ``'gt_instances' in sample`` / ``'pred_instances' in sample`` tell whether they are set.
    """

    def crop_to_image(self, points) -> np.ndarray:
        """Map crop pixels of this sample to original-image pixels (un-mirrored).

        Args:
            points: ``(M, 2)`` crop pixels (array or tensor).

        Returns:
            ``(M, 2)`` float64 original-image pixels.

        Raises:
            KeyError: metainfo lacks ``crop_affine`` or ``ori_shape``.
        """
        for key in ('crop_affine', 'ori_shape'):
            if key not in self.metainfo:
                raise KeyError(f'HandObjectDataSample: metainfo {key!r} is missing; it is '
                               'needed to map crop pixels back to the original image '
                               '(PackHandObjectInputs stores it)')
        if hasattr(points, 'detach'):
            points = points.detach().cpu().numpy()
        return crop_to_image(points, self.metainfo['crop_affine'],
                             bool(self.metainfo.get('flip', False)),
                             int(self.metainfo['ori_shape'][1]))

    @property
    def gt_instances(self) -> InstanceData:
        return self._gt_instances

    @gt_instances.setter
    def gt_instances(self, value: InstanceData) -> None:
        self.set_field(value, '_gt_instances', dtype=InstanceData)

    @gt_instances.deleter
    def gt_instances(self) -> None:
        del self._gt_instances

    @property
    def pred_instances(self) -> InstanceData:
        return self._pred_instances

    @pred_instances.setter
    def pred_instances(self, value: InstanceData) -> None:
        self.set_field(value, '_pred_instances', dtype=InstanceData)

    @pred_instances.deleter
    def pred_instances(self) -> None:
        del self._pred_instances
