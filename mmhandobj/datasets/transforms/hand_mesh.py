"""Ground-truth hand vertices from the MANO parameters (for local hand-mesh metrics)."""
from typing import Dict, Tuple

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmhandobj.models.mano import ManoLayer
from mmhandobj.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GenerateHandVertices(BaseTransform):
    """Posed MANO vertices in the original camera, for frames with hand ground truth.

    ``hand_verts3d_cam = MANO_side(pose, shape) - MANO wrist + root_joint``: the mesh of the
    real hand side (left frames use the left model), in metres, original un-mirrored camera.
    Root-relative placement makes it independent of the translation convention; for HO3D it equals
    ``C (v_gl)`` of the dataset's own mesh, since the wrist is MANO joint 0. Must run before
    :class:`CanonicalizeHandSide` (it reads the stored, un-mirrored pose).

    Required keys: ``has_hand``, ``hand_side``, ``mano_pose``, ``mano_pose_flat``,
    ``mano_shape``, ``root_joint``. Added keys: ``hand_verts3d_cam`` ((778, 3) float32, when
    ``has_hand``).

    Args:
        mano_root: Folder with ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``.
    """

    def __init__(self, mano_root: str = 'data/mano') -> None:
        self.mano_root = mano_root
        self._layers: Dict[Tuple[str, bool], ManoLayer] = {}

    def _layer(self, side: str, flat: bool) -> ManoLayer:
        if (side, flat) not in self._layers:
            self._layers[(side, flat)] = ManoLayer(
                mano_root=self.mano_root, side=side, use_pca=False, flat_hand_mean=flat,
                units='m')
        return self._layers[(side, flat)]

    def transform(self, results: dict) -> dict:
        if not results['has_hand']:
            return results
        if 'mano_pose_offset' not in results:
            raise KeyError(f'{results.get("img_path")}: GenerateHandVertices must run before '
                           'CanonicalizeHandSide (it needs the stored, un-mirrored pose)')
        layer = self._layer(results['hand_side'], bool(results['mano_pose_flat']))
        with torch.no_grad():
            verts, joints = layer(
                torch.as_tensor(np.asarray(results['mano_pose'], np.float32))[None],
                torch.as_tensor(np.asarray(results['mano_shape'], np.float32))[None])
        verts = (verts[0] - joints[0, :1]).double().numpy()
        results['hand_verts3d_cam'] = (verts + np.asarray(results['root_joint'])).astype(np.float32)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mano_root={self.mano_root!r})'
