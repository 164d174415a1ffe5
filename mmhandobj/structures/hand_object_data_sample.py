"""Data sample passed between the pipeline, the model and the metrics.

This module is the contract between ``PackHandObjectInputs`` (producer), ``HFLNet`` (consumer of
``gt_instances``, producer of ``pred_instances``) and the metrics (consumers of both).

Every image holds exactly one hand and one object, so ``gt_instances`` and ``pred_instances``
are ``InstanceData`` of length 1 (leading dimension 1 on every field), as in mmpose.

Frames and units: metres, OpenCV camera (x right, y down, z forward). "Crop" means the
network input (``img_shape``, 256x256 by default); "image" means the original image *after*
the left-to-right mirror (``flip`` True), "original image" before it.

``metainfo`` (plain Python / numpy values):
    img_path (str), sample_idx (int, index in the dataset = order of the server dump),
    dataset_name (str, ``'ho3d'``|``'dexycb'``), ori_shape ((H, W)), img_shape ((h, w)),
    hand_side (str, ``'right'``|``'left'``, the real side), flip (bool, True when the image and
    labels were mirrored to a right hand), cam_intr (3x3 float32, intrinsics of the crop, in the
    mirrored frame when flip), ori_cam_intr (3x3 float32, intrinsics of the original image),
    crop_affine (2x3 float32, maps (possibly mirrored) image pixels to crop pixels),
    obj_name (str, YCB name), obj_cls (int, DexYCB ``_YCB_CLASSES`` id, 0 when unknown).

``gt_instances`` (tensors after packing; a field may be absent when the split has no GT):
    hand_bboxes (1, 4): hand RoI box x1y1x2y2, crop pixels.
    obj_bboxes (1, 4): object RoI box x1y1x2y2, crop pixels.
    joints2d (1, 21, 2): hand joints, crop pixels, simple order.
    mano_pose (1, 48): MANO axis-angle, flat-hand-mean, right hand (mirrored when flip), global
        orient in the crop camera (rotation augmentation applied).
    mano_shape (1, 10): MANO betas.
    obj_kps2d (1, 21, 2): the 21 object box keypoints, crop pixels.
    obj_mask (1, 32, 32): object mask inside ``obj_bboxes`` (1 = object), float.
    joints3d (1, 21, 3): hand joints, metres, original camera, simple order, not mirrored.
    root_joint (1, 3): wrist, metres, original camera, not mirrored.
    verts3d (1, 778, 3): hand vertices, metres, original camera, not mirrored (when known).
    obj_pose (1, 3, 4): object [R|t] model -> original camera, metres, not mirrored.
    obj_kps3d (1, 21, 3): the 21 box keypoints in the object model frame, metres.
    obj_diameter (1,): object "diameter" in metres (AABB diagonal by default).

``pred_instances`` (numpy arrays, filled by ``HFLNet.predict``):
    hand_joints3d (1, 21, 3): metres, wrist-centred, simple order, in the network's frame
        (mirrored when flip; metrics un-mirror with x *= -1 and add the GT root).
    hand_verts3d (1, 778, 3): metres, wrist-centred, same frame as ``hand_joints3d``.
    hand_joints2d (1, 21, 2): crop pixels.
    mano_pose (1, 48), mano_shape (1, 10): predicted MANO parameters (network frame).
    obj_rot (1, 3, 3), obj_trans (1, 3): object pose, model -> original camera, metres
        (already un-mirrored and mapped back from the crop before PnP).
    obj_kps2d (1, 21, 2): voted keypoints in original-image pixels (un-mirrored).
"""
from mmengine.structures import BaseDataElement, InstanceData


class HandObjectDataSample(BaseDataElement):
    """One hand-object image: metainfo plus ``gt_instances`` and ``pred_instances``."""

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
