"""Shared machinery of the hand-object datasets: columnar annotations on mmengine BaseDataset."""
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from mmhandobj.structures import YCB_CLASS_IDS, pinhole_project, transform_points_3d

from .annotation_file import load_annotation_file
from .object_models import ObjectModelBank


class HandObjectBaseDataset(BaseDataset):
    """Base of :class:`HO3DDataset` and :class:`DexYCBDataset`.

    The annotation file (see :mod:`mmhandobj.datasets.annotation_file`) is kept as stacked
    numpy columns and the selected frames as one index array, instead of mmengine's list of
    dicts: loading is a few array reads, and dataloader workers share the columns through fork
    without copy-on-read, which is what ``serialize_data`` achieves for a list of dicts.
    ``get_data_info`` builds one sample dict on demand.

    Sample dict keys (consumed by the transforms in :mod:`mmhandobj.datasets.transforms`):
        img_path (str), ann_file (str), sample_idx (int), dataset_name (str), frame_key (str),
        sequence (str), ori_shape ((H, W)), ori_cam_intr ((3, 3) float32),
        hand_side ('right'|'left'), has_hand (bool), joints2d ((21, 2) px),
        hand_joints3d_cam ((21, 3) m; the annotation file's ``joints3d``), root_joint ((3,) m),
        hand_box_hint ((4,) px, HO3D evaluation only), mano_pose ((48,) axis-angle, fingers
        relative to mano_pose_offset; all NaN without a MANO fit), mano_pose_offset ((45,)),
        mano_pose_flat (bool: the stored pose is flat-hand-mean for its side, else relative to
        the side's own hands_mean), mano_shape ((10,)),
        has_obj (bool), obj_name (str), obj_cls (int), obj_pose ((3, 4)), obj_kps3d ((21, 3) m,
        model frame), obj_kps2d ((21, 2) px), obj_diameter (float, m), obj_mask_rle (bytes),
        obj_model_root (str, the folder of the object models).
        Joints are in the 'simple' order; all geometry is OpenCV, original un-mirrored image.

    Args:
        ann_file: Annotation ``.npz`` (relative to ``data_root`` unless absolute).
        obj_model_root: Folder with ``<ycb name>/points.xyz`` (relative to ``data_root`` unless
            absolute).
        diameter_mode: Object diameter, ``'aabb'`` (reference) or ``'max'`` (alias
            ``'max_extent'``), see :func:`mmhandobj.structures.object_diameter`.
        data_root: Dataset root; image paths in the annotation file are relative to it.
        pipeline: Transforms.
        test_mode: Test mode (no frame is resampled on a ``None`` from the pipeline).
        indices: Keep only these positions (int = the first ``indices`` frames).
        lazy_init: Defer loading to the first access.
        max_refetch: Retries when the pipeline returns ``None`` in training.
    """

    DATASET_NAME = ''

    def __init__(self,
                 ann_file: str,
                 obj_model_root: str,
                 diameter_mode: str = 'aabb',
                 data_root: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 test_mode: bool = False,
                 indices: Optional[Union[int, Sequence[int]]] = None,
                 lazy_init: bool = False,
                 max_refetch: int = 1000) -> None:
        self.obj_model_root = obj_model_root
        self.diameter_mode = diameter_mode
        self._columns: Dict[str, np.ndarray] = {}
        self._ann_meta: Dict[str, Any] = {}
        self._frame_ids = np.zeros(0, np.int64)
        super().__init__(
            ann_file=ann_file, data_root=data_root, pipeline=list(pipeline),
            test_mode=test_mode, indices=indices, serialize_data=False, lazy_init=lazy_init,
            max_refetch=max_refetch)

    def _join_prefix(self) -> None:
        super()._join_prefix()
        if self.obj_model_root and not osp.isabs(self.obj_model_root) and self.data_root:
            self.obj_model_root = osp.join(self.data_root, self.obj_model_root)

    def select_frames(self, columns: Dict[str, np.ndarray], meta: Dict[str, Any]) -> np.ndarray:
        """Boolean mask of the frames this dataset keeps (subclasses add split rules)."""
        return np.ones(len(columns['img_path']), bool)

    def full_init(self) -> None:
        """Load the annotation file, select frames, check the object models."""
        if self._fully_initialized:
            return
        self._columns, self._ann_meta = load_annotation_file(self.ann_file)
        keep = self.select_frames(self._columns, self._ann_meta)
        frame_ids = np.flatnonzero(keep)
        if self._indices is not None:
            subset = (np.arange(min(self._indices, len(frame_ids)))
                      if isinstance(self._indices, int) else np.asarray(self._indices))
            frame_ids = frame_ids[subset]
        self._frame_ids = frame_ids
        self._check_hand_values(frame_ids)
        self.objects = ObjectModelBank(self.obj_model_root, self.diameter_mode)
        obj_names: List[str] = list(self._ann_meta['obj_names'])
        used = np.unique(self._columns['obj_index'][frame_ids][
            self._columns['has_obj'][frame_ids]])
        self.objects.check([obj_names[i] for i in used])
        self._metainfo.update(
            dataset_name=self.DATASET_NAME, obj_names=obj_names,
            image_size=tuple(self._ann_meta['image_size']))
        print_log(f'{type(self).__name__}: {len(frame_ids)} of {len(keep)} frames from '
                  f'{self.ann_file}', logger='current')
        self._fully_initialized = True

    def _check_hand_values(self, frame_ids: np.ndarray) -> None:
        """Refuse NaN/inf in the hand annotations of the selected frames with a hand.

        Joints and MANO shape must be finite; the MANO pose must be finite, or all NaN (no MANO
        fit, DexYCB) at test time only, where nothing reads it.

        Raises:
            ValueError: Naming the file, the field, the number of frames and the first one.
        """
        col = self._columns
        ids = frame_ids[col['has_hand'][frame_ids]]
        for name in ('joints2d', 'joints3d', 'mano_shape', 'mano_pose'):
            values = col[name][ids].reshape(len(ids), -1) if len(ids) else np.zeros((0, 1))
            finite = np.isfinite(values).all(1)
            if name == 'mano_pose' and self.test_mode:
                finite |= np.isnan(values).all(1)
            if not finite.all():
                bad = ids[~finite]
                raise ValueError(
                    f'{self.ann_file}: field {name!r} holds NaN/inf in {len(bad)} frame(s) with '
                    f'a hand, e.g. {col["frame_key"][bad[0]].decode("utf-8")}; re-run the '
                    'converter on the raw dataset (or remove those frames)')

    def load_data_list(self) -> List[dict]:
        """Not used: the annotations stay columnar (see the class docstring)."""
        raise NotImplementedError(f'{type(self).__name__} keeps columnar annotations')

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self._frame_ids)

    def get_data_info(self, idx: int) -> dict:
        """Build the sample dict of position ``idx`` (see the class docstring)."""
        if not self._fully_initialized:
            self.full_init()
        if idx < 0:
            idx += len(self)
        col = self._columns
        i = int(self._frame_ids[idx])
        width, height = self._ann_meta['image_size']
        cam_intr = col['cam_intr'][i].copy()
        info: Dict[str, Any] = dict(
            img_path=osp.join(self.data_root, col['img_path'][i].decode('utf-8')),
            ann_file=self.ann_file,
            sample_idx=idx,
            dataset_name=self.DATASET_NAME,
            frame_key=col['frame_key'][i].decode('utf-8'),
            sequence=col['sequence'][i].decode('utf-8'),
            ori_shape=(height, width),
            ori_cam_intr=cam_intr,
            hand_side='left' if col['is_left'][i] else 'right',
            has_hand=bool(col['has_hand'][i]),
            root_joint=col['root_joint'][i].copy(),
            mano_pose=col['mano_pose'][i].copy(),
            mano_pose_offset=np.asarray(self._ann_meta['mano_pose_offset'], np.float32),
            mano_pose_flat=bool(self._ann_meta['mano_pose_flat']),
            mano_shape=col['mano_shape'][i].copy(),
            has_obj=bool(col['has_obj'][i]),
        )
        if info['has_hand']:
            info['joints2d'] = col['joints2d'][i].copy()
            # the file's column keeps its documented name; samples speak the contract's
            info['hand_joints3d_cam'] = col['joints3d'][i].copy()
        if np.isfinite(col['hand_box'][i]).all():
            info['hand_box_hint'] = col['hand_box'][i].copy()
        if info['has_obj']:
            name = self._ann_meta['obj_names'][int(col['obj_index'][i])]
            pose = col['obj_pose'][i].copy()
            kps3d = self.objects.keypoints3d(name)
            cam_pts = transform_points_3d(kps3d, pose[:, :3], pose[:, 3])
            info.update(
                obj_name=name, obj_cls=YCB_CLASS_IDS.get(name, 0), obj_pose=pose,
                obj_kps3d=kps3d.copy(),
                obj_kps2d=pinhole_project(cam_pts, cam_intr).astype(np.float32),
                obj_diameter=self.objects.diameter(name))
        start, end = col['mask_offsets'][i], col['mask_offsets'][i + 1]
        info['obj_mask_rle'] = col['mask_rle'][start:end].tobytes()
        info['obj_model_root'] = self.obj_model_root
        return info
