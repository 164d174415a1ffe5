"""Draw hand-object predictions and ground truth on the original image."""
import os
import os.path as osp
from typing import Any, Optional, Tuple

import numpy as np
from mmengine.dist import get_rank
from mmengine.visualization import Visualizer
from torch import nn

from mmhandobj.evaluation.functional import root_relative_to_camera
from mmhandobj.models.mano import ManoLayer
from mmhandobj.registry import VISUALIZERS
from mmhandobj.structures import HandObjectDataSample
from mmhandobj.structures.sample_fields import get_instance, to_float64
from mmhandobj.utils.image_files import write_rgb

from .drawing import Color, draw_mesh, draw_polygon, draw_segments, draw_skeleton
from .geometry import BOX_EDGES, box_corners, project_to_image

#: Ground-truth fields whose presence makes the GT panel worth drawing.
GT_DRAWN_FIELDS = ('hand_joints3d_cam', 'hand_joints2d_crop', 'hand_verts3d_cam', 'obj_pose')


@VISUALIZERS.register_module()
class HandObjectVisualizer(Visualizer):
    """Visualiser of one hand and one object per image (MMEngine ``Visualizer``).

    :meth:`add_datasample` draws side by side, left to right, a ground-truth panel (when
    ``draw_gt`` and the sample has GT) and a prediction panel (when ``draw_pred`` and the sample
    has ``pred_instances``), each on a copy of the ORIGINAL image (unmirrored, uncropped). With
    neither, the image comes back unchanged. Each panel shows, bottom to top:

    * the hand mesh (MANO faces needed) as semi-transparent flat-shaded triangles;
    * the 12 edges of the object's 3D box (the 8 corners of ``gt_instances.obj_kps3d``) placed
      with the GT pose ``gt_instances.obj_pose`` or the predicted ``pred_instances.obj_rot`` /
      ``obj_trans``, in ``gt_obj_color`` or ``pred_obj_color``;
    * prediction panel only: the hand and object RoI boxes the network was given
      (``gt_instances.hand_bboxes`` / ``obj_bboxes``, mapped back from the crop);
    * the 21-joint hand skeleton, coloured per finger.

    Geometry: everything 3D is projected with metainfo ``ori_cam_intr``. GT joints/vertices
    are already in the original camera (GT joints come from ``hand_joints3d_cam``, or from the crop
    pixels ``hand_joints2d_crop`` mapped back to the original image when there is no 3D GT).
    The predicted skeleton is ``pred_instances.hand_joints2d_img`` (original-image pixels).
    The predicted mesh is
    wrist-relative in the network frame: it is un-mirrored (``x *= -1`` when ``flip``) and
    placed at ``gt_instances.root_joint`` when known (a given wrist wins); otherwise at the
    solved wrist ``pred_instances.hand_root`` (the translation that best fits its joints to the
    predicted 2D skeleton, :func:`~mmhandobj.structures.geometry.solve_hand_root`).

    Images are RGB (MMEngine's convention); files are written as usual image files (a fast
    zlib-level-1 PNG for ``.png``, a JPEG otherwise; BGR order handled on writing).

    Args:
        name (str): Instance name (MMEngine ``ManagerMixin``).
        image (np.ndarray, optional): Initial RGB image.
        vis_backends (list[dict], optional): MMEngine visualisation backends.
        save_dir (str, optional): Where backends save (``<save_dir>/vis_data``).
        mano_faces (array-like or object, optional): ``(F, 3)`` MANO triangle vertex ids, or an
            object with a ``faces`` attribute (e.g. a ``ManoLayer``). Without faces no mesh is
            drawn; :meth:`set_mano_faces` sets them later.
        line_width (int): Width of skeleton, box and RoI lines, pixels.
        radius (int): Joint dot radius, pixels.
        mesh_alpha (float): Mesh opacity in [0, 1].
        draw_skeleton, draw_mesh, draw_obj_box, draw_bbox (bool): Which layers to draw.
        gt_mesh_color, pred_mesh_color, gt_obj_color, pred_obj_color, hand_bbox_color,
            obj_bbox_color (tuple[int, int, int]): RGB colours.
    """

    def __init__(self, name: str = 'visualizer', image: Optional[np.ndarray] = None,
                 vis_backends: Optional[list] = None, save_dir: Optional[str] = None,
                 mano_faces: Any = None, line_width: int = 2, radius: int = 3,
                 mesh_alpha: float = 0.5, draw_skeleton: bool = True, draw_mesh: bool = True,
                 draw_obj_box: bool = True, draw_bbox: bool = True,
                 gt_mesh_color: Color = (120, 230, 120), pred_mesh_color: Color = (120, 170, 255),
                 gt_obj_color: Color = (70, 240, 240), pred_obj_color: Color = (240, 50, 230),
                 hand_bbox_color: Color = (255, 255, 255),
                 obj_bbox_color: Color = (170, 110, 40)) -> None:
        super().__init__(name=name, image=image, vis_backends=vis_backends, save_dir=save_dir)
        if line_width < 1 or radius < 0:
            raise ValueError(f'line_width must be >= 1 and radius >= 0, got {line_width} and '
                             f'{radius}')
        if not 0.0 <= mesh_alpha <= 1.0:
            raise ValueError(f'mesh_alpha must be in [0, 1], got {mesh_alpha}')
        self.mano_faces: Optional[np.ndarray] = None
        self.set_mano_faces(mano_faces)
        self.line_width = line_width
        self.radius = radius
        self.mesh_alpha = mesh_alpha
        self.layers = dict(skeleton=draw_skeleton, mesh=draw_mesh, obj_box=draw_obj_box,
                           bbox=draw_bbox)
        self.colors = dict(gt_mesh=gt_mesh_color, pred_mesh=pred_mesh_color,
                           gt_obj=gt_obj_color, pred_obj=pred_obj_color,
                           hand_bbox=hand_bbox_color, obj_bbox=obj_bbox_color)

    def set_mano_faces(self, faces: Any) -> None:
        """Set the MANO triangles used to draw meshes.

        Args:
            faces: ``(F, 3)`` integer vertex ids (array or tensor), an object with a ``faces``
                attribute (e.g. a ``ManoLayer``), or None to draw no mesh.
        """
        if faces is None:
            self.mano_faces = None
            return
        faces = getattr(faces, 'faces', faces)
        if hasattr(faces, 'detach'):
            faces = faces.detach().cpu().numpy()
        faces = np.asarray(faces)
        if faces.ndim != 2 or faces.shape[1] != 3 or not np.issubdtype(faces.dtype, np.integer):
            raise ValueError(f'mano_faces: expected integer vertex ids of shape (F, 3), got '
                             f'{faces.dtype} {faces.shape}')
        self.mano_faces = faces.astype(np.int64)

    # ------------------------------------------------------------------ entry point
    def add_datasample(self, name: str, image: np.ndarray,
                       data_sample: Optional[HandObjectDataSample] = None,
                       draw_gt: bool = True, draw_pred: bool = True, show: bool = False,
                       wait_time: float = 0, out_file: Optional[str] = None,
                       step: int = 0) -> np.ndarray:
        """Draw a sample; show it, save it to ``out_file`` or send it to the backends.

        In distributed runs every rank writes its own samples' ``out_file`` (distinct names),
        while showing and the backends stay on rank 0 (MMEngine's ``master_only``).

        Args:
            name (str): Image identifier (window title, backend key).
            image (np.ndarray): ``(H, W, 3)`` uint8 ORIGINAL image, RGB; ``(H, W)`` must equal
                metainfo ``ori_shape`` when present.
            data_sample (HandObjectDataSample, optional): The sample (contract of
                :mod:`mmhandobj.structures.hand_object_data_sample`).
            draw_gt (bool): Draw the GT panel when the sample has GT.
            draw_pred (bool): Draw the prediction panel when the sample has predictions.
            show (bool): Show the result in a window.
            wait_time (float): Seconds to wait when showing (0 = until a key).
            out_file (str, optional): Write the result there (parent folders are created);
                otherwise it goes to the visualisation backends.
            step (int): Global step for the backends.

        Returns:
            np.ndarray: The drawn RGB image, ``(H, W * panels, 3)`` uint8.
        """
        image = self._check_image(image, data_sample)
        panels = []
        if data_sample is not None:
            if draw_gt and self._has_gt(data_sample):
                panels.append(self._draw_gt(image.copy(), data_sample))
            if draw_pred and 'pred_instances' in data_sample:
                panels.append(self._draw_pred(image.copy(), data_sample))
        drawn = np.concatenate(panels, axis=1) if panels else image.copy()
        # Drawn with OpenCV on the array: no set_image (it renders the picture into the
        # matplotlib figure, the costliest step here, for nothing that is read back).
        if out_file is not None:
            os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
            write_rgb(out_file, drawn)
        if get_rank() == 0:
            if show:
                self.show(drawn, win_name=name, wait_time=wait_time)
            if out_file is None:
                self.add_image(name, drawn, step)
        return drawn

    # ------------------------------------------------------------------ panels
    def _draw_gt(self, image: np.ndarray, sample: HandObjectDataSample) -> np.ndarray:
        """Draw the GT hand and object on ``image`` (in place); return it."""
        fields = sample.to_dict()
        intr = self._intrinsics(sample)
        joints3d = get_instance(fields, 'gt_instances', 'hand_joints3d_cam', (21, 3),
                                required=False)
        if joints3d is not None:
            joints2d = project_to_image(joints3d, intr)[0]
        else:
            joints2d = get_instance(fields, 'gt_instances', 'hand_joints2d_crop', (21, 2),
                                    required=False)
            if joints2d is not None:
                joints2d = sample.crop_to_image(joints2d)
        verts = get_instance(fields, 'gt_instances', 'hand_verts3d_cam', (778, 3),
                             required=False)
        if verts is not None:
            self._draw_mesh(image, verts, intr, self.colors['gt_mesh'])
        pose = get_instance(fields, 'gt_instances', 'obj_pose', (3, 4), required=False)
        if pose is not None:
            pose = to_float64(pose, 'gt_instances.obj_pose')
            self._draw_obj_box(image, sample, pose[:, :3], pose[:, 3], intr,
                               self.colors['gt_obj'])
        if joints2d is not None and self.layers['skeleton']:
            draw_skeleton(image, to_float64(joints2d, 'joints2d'), self.line_width, self.radius)
        return image

    def _draw_pred(self, image: np.ndarray, sample: HandObjectDataSample) -> np.ndarray:
        """Draw the predicted hand and object and the RoI boxes on ``image``; return it."""
        fields = sample.to_dict()
        intr = self._intrinsics(sample)
        joints2d = get_instance(fields, 'pred_instances', 'hand_joints2d_img', (21, 2),
                                required=False)
        if joints2d is not None:
            joints2d = to_float64(joints2d, 'pred_instances.hand_joints2d_img')
        verts = get_instance(fields, 'pred_instances', 'hand_verts3d', (778, 3), required=False)
        if verts is not None and self._can_draw_mesh():
            root = self._pred_root(fields)
            if root is not None:
                flip = bool(sample.metainfo.get('flip', False))
                verts_cam = root_relative_to_camera(verts[None], root[None], [flip])[0]
                self._draw_mesh(image, verts_cam, intr, self.colors['pred_mesh'])
        rot = get_instance(fields, 'pred_instances', 'obj_rot', (3, 3), required=False)
        trans = get_instance(fields, 'pred_instances', 'obj_trans', (3,), required=False)
        if rot is not None and trans is not None:
            self._draw_obj_box(image, sample, rot, trans, intr, self.colors['pred_obj'])
        if self.layers['bbox']:
            for key in ('hand', 'obj'):
                box = get_instance(fields, 'gt_instances', f'{key}_bboxes', (4,),
                                   required=False)
                if box is not None:
                    corners = sample.crop_to_image(box_corners(box))
                    draw_polygon(image, corners, self.colors[f'{key}_bbox'], self.line_width)
        if joints2d is not None and self.layers['skeleton']:
            draw_skeleton(image, joints2d, self.line_width, self.radius)
        return image

    # ------------------------------------------------------------------ helpers
    def _can_draw_mesh(self) -> bool:
        return self.layers['mesh'] and self.mano_faces is not None

    def _draw_mesh(self, image: np.ndarray, verts_cam: np.ndarray, intr: np.ndarray,
                   color: Color) -> None:
        """Project ``(778, 3)`` camera-frame vertices (metres) and blend the mesh."""
        if not self._can_draw_mesh():
            return
        verts_cam = to_float64(verts_cam, 'hand_verts3d_cam')
        if self.mano_faces.max() >= len(verts_cam):
            raise ValueError(f'mano_faces index vertex {self.mano_faces.max()} but the mesh has '
                             f'{len(verts_cam)} vertices')
        verts2d, _ = project_to_image(verts_cam, intr)
        draw_mesh(image, verts2d, verts_cam, self.mano_faces, color, self.mesh_alpha)

    def _draw_obj_box(self, image: np.ndarray, sample: HandObjectDataSample, rot: Any,
                      trans: Any, intr: np.ndarray, color: Color) -> None:
        """Draw the object's 3D box (model -> camera by ``rot``, ``trans``; metres)."""
        if not self.layers['obj_box']:
            return
        kps3d = get_instance(sample.to_dict(), 'gt_instances', 'obj_kps3d', (21, 3),
                             required=False)
        if kps3d is None:
            return
        corners = to_float64(kps3d, 'gt_instances.obj_kps3d')[:8]
        corners_cam = corners @ to_float64(rot, 'obj_rot').T + to_float64(trans, 'obj_trans')
        pixels, valid = project_to_image(corners_cam, intr)
        draw_segments(image, pixels, BOX_EDGES, color, self.line_width, valid)

    @staticmethod
    def _pred_root(fields: dict) -> Optional[np.ndarray]:
        """Root joint (metres, original camera) for the predicted mesh; see the class doc."""
        root = get_instance(fields, 'gt_instances', 'root_joint', (3,), required=False)
        if root is not None:
            return to_float64(root, 'gt_instances.root_joint')
        root = get_instance(fields, 'pred_instances', 'hand_root', (3,), required=False)
        if root is None:
            return None
        root = to_float64(root, 'pred_instances.hand_root')
        return root if np.isfinite(root).all() else None

    @staticmethod
    def _intrinsics(sample: HandObjectDataSample) -> np.ndarray:
        if 'ori_cam_intr' not in sample.metainfo:
            raise KeyError('HandObjectVisualizer: metainfo ori_cam_intr (3x3 intrinsics of the '
                           'original image) is missing')
        intr = to_float64(sample.metainfo['ori_cam_intr'], 'metainfo.ori_cam_intr')
        if intr.shape != (3, 3):
            raise ValueError(f'metainfo.ori_cam_intr: expected shape (3, 3), got {intr.shape}')
        return intr

    @staticmethod
    def _has_gt(sample: HandObjectDataSample) -> bool:
        return 'gt_instances' in sample and any(key in sample.gt_instances
                                                for key in GT_DRAWN_FIELDS)

    @staticmethod
    def _check_image(image: np.ndarray,
                     sample: Optional[HandObjectDataSample]) -> np.ndarray:
        image = np.asarray(image)
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise ValueError(f'image: expected an (H, W, 3) uint8 RGB array, got {image.dtype} '
                             f'{image.shape}')
        if sample is not None and 'ori_shape' in sample.metainfo:
            expected: Tuple[int, int] = tuple(int(s) for s in sample.metainfo['ori_shape'][:2])
            if image.shape[:2] != expected:
                raise ValueError(f'image has size {image.shape[:2]} but metainfo ori_shape is '
                                 f'{expected}: pass the ORIGINAL image, not the network crop')
        return image


def find_mano_layer(model: nn.Module) -> Optional[ManoLayer]:
    """Return the first MANO layer inside a model (its ``faces`` serve the visualiser).

    Args:
        model: An ``nn.Module``, possibly wrapped (e.g. DDP).

    Returns:
        The ``ManoLayer``, or None when the model holds none.
    """
    return next((m for m in model.modules() if isinstance(m, ManoLayer)), None)
