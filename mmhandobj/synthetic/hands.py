"""The stand-in MANO hands used by the synthetic world, read from the world's own MANO files.

Three layer configurations are used, all in metres with ``center_idx=None``:

* ``local``: flat-hand-mean axis-angle, manopth tips (placement of hand and object);
* ``ho3d``: the same with HO3D's fingertip vertices (``handJoints3D`` and the released GT);
* ``dexycb``: 45 PCA coefficients with ``flat_hand_mean=False`` and manopth tips, i.e. the
  DexYCB toolkit's MANO (``pose_m`` -> ``joint_3d``).
"""
import os
from typing import Dict, Tuple

import numpy as np
import torch

from mmhandobj.models.mano import ManoLayer, load_mano_model

from .hand_model import make_standin_mano

#: Seed of the stand-in MANO model; the training quick start builds the same model.
MANO_SEED = 0
#: File names written into ``<root>/mano``.
MANO_FILES: Dict[str, str] = {'right': 'MANO_RIGHT.pkl', 'left': 'MANO_LEFT.pkl'}

_LAYER_ARGS = {
    'local': dict(use_pca=False, flat_hand_mean=True, fingertips='manopth'),
    'ho3d': dict(use_pca=False, flat_hand_mean=True, fingertips='ho3d'),
    'dexycb': dict(use_pca=True, ncomps=45, flat_hand_mean=False, fingertips='manopth'),
}


def write_mano_files(mano_dir: str) -> None:
    """Write the stand-in ``MANO_RIGHT.pkl`` and ``MANO_LEFT.pkl`` (seed 0) into ``mano_dir``."""
    os.makedirs(mano_dir, exist_ok=True)
    for side, name in MANO_FILES.items():
        make_standin_mano(os.path.join(mano_dir, name), side=side, seed=MANO_SEED)


class StandinHands:
    """MANO layers and PCA arrays of both sides, loaded from a folder of MANO files.

    Args:
        mano_dir: Folder holding ``MANO_RIGHT.pkl`` and ``MANO_LEFT.pkl``.
    """

    def __init__(self, mano_dir: str) -> None:
        self.mano_dir = mano_dir
        self._layers: Dict[Tuple[str, str], ManoLayer] = {}
        self.models = {side: load_mano_model(os.path.join(mano_dir, name))
                       for side, name in MANO_FILES.items()}

    def pca(self, side: str) -> Tuple[np.ndarray, np.ndarray]:
        """``hands_components (45, 45)`` and ``hands_mean (45,)`` of a side."""
        model = self.models[side]
        return np.asarray(model['hands_components']), np.asarray(model['hands_mean'])

    def faces(self, side: str) -> np.ndarray:
        """``(1538, 3)`` int64 triangles of a side."""
        return np.asarray(self.models[side]['f'], dtype=np.int64)

    def layer(self, kind: str, side: str) -> ManoLayer:
        """The ``kind`` (``'local'``, ``'ho3d'``, ``'dexycb'``) layer of ``side``, cached."""
        key = (kind, side)
        if key not in self._layers:
            self._layers[key] = ManoLayer(mano_root=self.mano_dir, side=side, center_idx=None,
                                          units='m', **_LAYER_ARGS[kind])
        return self._layers[key]

    def forward(self, kind: str, side: str, pose: np.ndarray, betas: np.ndarray,
                trans: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Run a layer in float64.

        Args:
            kind: Layer kind (see the module docstring).
            side: ``'right'`` or ``'left'``.
            pose: ``(B, 48)`` axis-angle (``local``/``ho3d``) or 3 + 45 PCA (``dexycb``).
            betas: ``(B, 10)``.
            trans: ``(B, 3)`` metres.

        Returns:
            Vertices ``(B, 778, 3)`` and joints ``(B, 21, 3)`` (simple order), float64 metres.
        """
        layer = self.layer(kind, side).double()
        with torch.no_grad():
            verts, joints = layer(torch.as_tensor(np.asarray(pose, dtype=np.float64)),
                                  torch.as_tensor(np.asarray(betas, dtype=np.float64)),
                                  torch.as_tensor(np.asarray(trans, dtype=np.float64)))
        return verts.numpy(), joints.numpy()

    def local_forward(self, side: str):
        """A :data:`~.scene.HandForward` for ``side`` (zero translation)."""
        def forward(pose: np.ndarray, betas: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
            return self.forward('local', side, pose, betas, np.zeros((len(pose), 3)))
        return forward
