"""Physical plausibility of predicted grasps: penetration, intersection volume and contact."""
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmhandobj.models.mano.mano_loader import load_mano_model
from mmhandobj.registry import METRICS
from mmhandobj.structures.sample_fields import get_instance, get_meta

from ..functional import NAN_POLICIES, finite_sample_mask, root_relative_to_camera
from ..functional.physical import (
    CONTACT_THRESHOLD,
    DEFAULT_VOXEL_SIZE,
    GRID_PADDING,
    OBMAN_PITCH,
    ObjectContactGrid,
)

#: Mesh file of each object model, as in the YCB-Video model download.
OBJECT_MESH_FILE = 'textured_simple.obj'
_ROOTS = ('gt', 'pred')
_M_TO_MM, _M3_TO_CM3 = 1e3, 1e6


def load_obj_mesh(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read the vertices and faces of a Wavefront OBJ file (polygons fanned into triangles).

    Args:
        path: ``.obj`` file; ``v x y z`` lines (metres for the YCB models) and ``f`` lines
            whose entries may carry ``/vt/vn`` parts and negative (relative) ids.

    Returns:
        ``(V, 3)`` float64 vertices and ``(F, 3)`` int64 triangles.

    Raises:
        FileNotFoundError: No such file. ValueError: unparsable lines, no faces, non-finite
        vertices or face ids out of range (the message names the file).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'object mesh not found: {path}')
    verts: List[List[float]] = []
    faces: List[List[int]] = []
    with open(path, encoding='utf-8', errors='replace') as file:
        for number, line in enumerate(file, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                if parts[0] == 'v':
                    verts.append([float(x) for x in parts[1:4]])
                    if len(verts[-1]) != 3:
                        raise ValueError('expected 3 coordinates')
                elif parts[0] == 'f':
                    ids = [int(p.split('/')[0]) for p in parts[1:]]
                    ids = [i - 1 if i > 0 else len(verts) + i for i in ids]
                    faces += [[ids[0], ids[k], ids[k + 1]] for k in range(1, len(ids) - 1)]
            except ValueError as err:
                raise ValueError(f'{path}, line {number}: cannot parse {line.strip()!r} '
                                 f'({err})') from err
    verts_array = np.asarray(verts, np.float64).reshape(-1, 3)
    faces_array = np.asarray(faces, np.int64).reshape(-1, 3)
    if len(faces_array) == 0:
        raise ValueError(f'{path}: the mesh has no faces')
    if not np.isfinite(verts_array).all():
        raise ValueError(f'{path}: the mesh has NaN or inf vertices')
    if faces_array.min() < 0 or faces_array.max() >= len(verts_array):
        raise ValueError(f'{path}: face vertex ids out of range [1, {len(verts_array)}]')
    return verts_array, faces_array


@METRICS.register_module()
class HandObjectContactMetric(BaseMetric):
    """Penetration depth, intersection volume and contact of the predicted hand and object.

    Per sample the hand mesh is the predicted MANO vertices (``pred_instances.hand_verts3d``,
    metres, root-relative, network frame) un-mirrored when metainfo ``flip`` and placed in the
    camera with the GT wrist ``gt_instances.root_joint`` (``root='gt'``, the HFL-Net
    protocol, as :class:`HO3DMetric` and :class:`DexYCBHandMetric`) or with the predicted
    wrist ``pred_instances.hand_root`` (``root='pred'``, metres, original camera); its faces
    are MANO's (``<mano_root>/MANO_RIGHT.pkl``), closed at the wrist. The object mesh is
    ``<obj_model_root>/<obj_name>/textured_simple.obj`` at the predicted pose
    (``pred_instances.obj_rot`` / ``obj_trans``, model -> camera). The reference row uses
    ``gt_instances.hand_verts3d_cam`` and ``gt_instances.obj_pose``.

    Each object model is turned once into an :class:`ObjectContactGrid` (model frame,
    ``voxel_size`` lattice, winding-number occupancy, exact distances); per frame the hand is
    moved into the model frame. Returned keys (prefix ``phys``), means over the scored frames:

    * ``penetration_depth_mm``: deepest hand vertex inside the object, 0 when none is.
    * ``intersection_volume_cm3``: solid overlap of the closed hand and the object, counted
      on the ``voxel_size`` lattice.
    * ``intersection_volume_obman_cm3``: ObMan's ``intersect_vox`` figure: object surface
      voxels (``obman_pitch``) inside the closed hand, times the voxel volume.
    * ``contact_ratio``: fraction of frames whose signed hand-object distance (min over hand
      vertices; negative when penetrating) is at most ``contact_threshold``.
    * ``gt_*``: the same four on the GT meshes (the annotation's own plausibility).
    * ``frames_scored``.

    Frames without a hand (``gt_instances.hand_verts3d_cam`` missing) or without a GT object
    pose are skipped and counted in the log. A class whose mesh file is missing or unreadable is
    skipped with a warning naming the file and the class; a degenerate mesh (no faces,
    NaN vertices) raises a ValueError naming the file.

    Args:
        obj_model_root: Folder with ``<obj_name>/textured_simple.obj``.
        mano_root: Folder with ``MANO_RIGHT.pkl`` (only its faces are used).
        root: ``'gt'`` or ``'pred'`` (see above).
        voxel_size: Lattice spacing of the object grids and of the solid volume, metres.
        obman_pitch: Voxel edge of the ObMan figure, metres (5 mm as in ObMan's evaluation).
        contact_threshold: Contact when the signed distance is at most this, metres.
        grid_padding: Margin of the object grids, metres (must exceed ``contact_threshold``).
        nan_policy: ``'exclude'`` or ``'raise'`` for non-finite predictions.
        collect_device: See :class:`mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix; defaults to ``'phys'``.
    """

    default_prefix: Optional[str] = 'phys'

    def __init__(self,
                 obj_model_root: str,
                 mano_root: str = 'data/mano',
                 root: str = 'gt',
                 voxel_size: float = DEFAULT_VOXEL_SIZE,
                 obman_pitch: float = OBMAN_PITCH,
                 contact_threshold: float = CONTACT_THRESHOLD,
                 grid_padding: float = GRID_PADDING,
                 nan_policy: str = 'exclude',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if root not in _ROOTS:
            raise ValueError(f'root must be one of {_ROOTS}, got {root!r}')
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}')
        if not osp.isdir(obj_model_root):
            raise FileNotFoundError(f'HandObjectContactMetric obj_model_root does not exist: '
                                    f'{obj_model_root}')
        if grid_padding <= contact_threshold:
            raise ValueError(f'grid_padding ({grid_padding} m) must exceed contact_threshold '
                             f'({contact_threshold} m)')
        self.obj_model_root = obj_model_root
        self.hand_faces = load_mano_model(osp.join(mano_root, 'MANO_RIGHT.pkl'))['f']
        self.root = root
        self.voxel_size = voxel_size
        self.obman_pitch = obman_pitch
        self.contact_threshold = contact_threshold
        self.grid_padding = grid_padding
        self.nan_policy = nan_policy
        self._grids: Dict[str, Optional[ObjectContactGrid]] = {}

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store the hand vertices, wrist, flip flag and object poses of each sample."""
        for sample in data_samples:
            gt_verts = get_instance(sample, 'gt_instances', 'hand_verts3d_cam', (778, 3),
                                    required=False)
            gt_pose = get_instance(sample, 'gt_instances', 'obj_pose', (3, 4), required=False)
            if gt_verts is None or gt_pose is None:
                self.results.append(dict(skipped=True))
                continue
            if self.root == 'gt':
                root = get_instance(sample, 'gt_instances', 'root_joint', (3, ))
            else:
                root = get_instance(sample, 'pred_instances', 'hand_root', (3, ),
                                    required=False)
                if root is None:
                    raise KeyError("HandObjectContactMetric(root='pred') needs "
                                   'pred_instances.hand_root (the predicted wrist in the '
                                   'camera, metres); the model did not output it')
            self.results.append(dict(
                sample_idx=int(get_meta(sample, 'sample_idx')),
                obj_name=str(get_meta(sample, 'obj_name')),
                verts=get_instance(sample, 'pred_instances', 'hand_verts3d', (778, 3)),
                root=root,
                flip=bool(get_meta(sample, 'flip', False, required=False)),
                rot=get_instance(sample, 'pred_instances', 'obj_rot', (3, 3)),
                trans=get_instance(sample, 'pred_instances', 'obj_trans', (3, )),
                gt_verts=gt_verts,
                gt_pose=gt_pose))

    def object_grid(self, name: str) -> Optional[ObjectContactGrid]:
        """The grid of class ``name``, built once; None (with a warning) when its mesh file
        is missing or unreadable."""
        if name not in self._grids:
            path = osp.join(self.obj_model_root, name, OBJECT_MESH_FILE)
            try:
                verts, faces = load_obj_mesh(path)
            except (OSError, UnicodeError) as err:
                MMLogger.get_current_instance().warning(
                    f'HandObjectContactMetric: cannot read the mesh of class {name!r} ({path}: '
                    f'{err}); its frames are left out of the physical keys')
                self._grids[name] = None
                return None
            self._grids[name] = ObjectContactGrid(
                verts, faces, self.voxel_size, self.grid_padding, self.obman_pitch, name=path)
        return self._grids[name]

    @staticmethod
    def _to_model(points: np.ndarray, rot: np.ndarray, trans: np.ndarray) -> np.ndarray:
        """Camera points ``(N, K, 3)`` into each frame's object model frame."""
        return np.einsum('nkj,nji->nki', points - trans[:, None, :], rot)

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return the physical keys for the prediction and the GT reference row."""
        logger = MMLogger.get_current_instance()
        num_skipped = sum(1 for r in results if r.get('skipped'))
        results = [r for r in results if not r.get('skipped')]
        if num_skipped:
            logger.info(f'HandObjectContactMetric: {num_skipped} frames without a hand or an '
                        'object pose skipped')
        if not results:
            raise ValueError('HandObjectContactMetric: no frame has both a hand '
                             '(gt_instances.hand_verts3d_cam) and an object pose '
                             '(gt_instances.obj_pose)')
        ids = [r['sample_idx'] for r in results]
        valid = finite_sample_mask(
            [np.stack([r[k] for r in results]).reshape(len(results), -1)
             for k in ('verts', 'root', 'rot', 'trans')],
            ids, self.nan_policy, 'HandObjectContactMetric predictions')
        groups = defaultdict(list)
        for result, ok in zip(results, valid):
            if ok:
                groups[result['obj_name']].append(result)

        per_frame: Dict[str, List[np.ndarray]] = defaultdict(list)
        for name in sorted(groups):
            grid = self.object_grid(name)
            if grid is None:
                continue
            group = groups[name]
            hand = root_relative_to_camera(np.stack([r['verts'] for r in group]),
                                           np.stack([r['root'] for r in group]),
                                           np.array([r['flip'] for r in group]))
            gt_pose = np.stack([r['gt_pose'] for r in group])
            rows = {
                '': (hand, np.stack([r['rot'] for r in group]),
                     np.stack([r['trans'] for r in group])),
                'gt_': (np.stack([r['gt_verts'] for r in group]).astype(np.float64),
                        gt_pose[:, :, :3], gt_pose[:, :, 3]),
            }
            for row, (verts, rot, trans) in rows.items():
                scores = grid.evaluate(self._to_model(verts, rot, trans), self.hand_faces)
                for key, value in scores.items():
                    per_frame[row + key].append(value)
        if not per_frame:
            logger.warning('HandObjectContactMetric: no class had a readable mesh; no '
                           'physical keys')
            return {}
        out: Dict[str, float] = {}
        for row in ('', 'gt_'):
            values = {k: np.concatenate(per_frame[row + k]) for k in
                      ('penetration_depth', 'intersection_volume',
                       'intersection_volume_obman', 'distance')}
            out[f'{row}penetration_depth_mm'] = float(values['penetration_depth'].mean()
                                                      * _M_TO_MM)
            out[f'{row}intersection_volume_cm3'] = float(values['intersection_volume'].mean()
                                                         * _M3_TO_CM3)
            out[f'{row}intersection_volume_obman_cm3'] = float(
                values['intersection_volume_obman'].mean() * _M3_TO_CM3)
            out[f'{row}contact_ratio'] = float(
                np.mean(values['distance'] <= self.contact_threshold))
        out['frames_scored'] = len(values['distance'])
        return out
