"""Differentiable MANO hand layer with manopth-compatible arguments and outputs."""
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from mmhandobj.registry import MODELS
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS, MANO_TO_SIMPLE

from .mano_loader import load_mano_model
from .rotations import axis_angle_to_matrix, robust_rot6d_to_matrix, rot6d_to_matrix

_SIDE_FILES = {'right': 'MANO_RIGHT.pkl', 'left': 'MANO_LEFT.pkl'}


@MODELS.register_module()
class ManoLayer(nn.Module):
    """MANO hand model as a batched, differentiable layer (manopth semantics).

    Linear blend skinning with shape and pose blend shapes. Joints are the 16 MANO joints plus
    five fingertip vertices, returned in the ``'simple'`` order (manopth's output order, see
    :mod:`mmhandobj.structures.joint_orders`).

    All model arrays are **non-persistent** buffers: they move with ``.to()``/``.double()``
    but never enter ``state_dict()``, so checkpoints do not redistribute MANO data (MANO
    licence). Buffers (and :attr:`faces`) are float32 at construction.

    Args:
        mano_root: Folder holding ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl``.
        side: ``'right'`` or ``'left'``.
        model_path: Explicit model file (``.pkl`` or ``.npz``); overrides ``mano_root``.
        use_pca: Axis-angle input gives PCA coefficients of the finger pose instead of the
            45 finger axis-angle values.
        ncomps: Number of PCA components used when ``use_pca``.
        flat_hand_mean: If False, ``hands_mean`` (the model's average, slightly curled pose)
            is added to the 45 finger values, i.e. the input is relative to the mean pose.
        center_idx: Output joint (simple order) the result is centred on when ``th_trans`` is
            None or all zero; no centring when None.
        root_rot_mode: Global rotation input in ``'axisang'`` mode: ``'axisang'`` (3 values)
            or ``'rot6d'`` (6 values, see :func:`rot6d_to_matrix`).
        joint_rot_mode: ``'axisang'`` (input ``(B, rot + ncomps)`` or ``(B, rot + 45)``) or
            ``'rotmat'`` (input ``(B, 16, 3, 3)`` or ``(B, 144)`` rotation matrices for all 16
            joints, global first; no mean pose is added).
        robust_rot: Use :func:`robust_rot6d_to_matrix` for a ``'rot6d'`` global rotation.
        units: ``'mm'`` (manopth default, outputs times 1000) or ``'m'``.
        fingertips: Key of ``FINGERTIP_VERTS`` (``'manopth'``, ``'ho3d'``, ``'smplx'``) or an
            explicit list of 5 vertex ids (thumb, index, middle, ring, pinky).
        fix_left_shapedirs: For the left model, negate ``shapedirs[:, 0, :]`` (the smplx#48 /
            dex-ycb-toolkit#28 fix of the left-hand shape space).
        standin_seed: If not None, use the procedural stand-in model of that seed
            (:func:`mmhandobj.synthetic.standin_mano_arrays`), built in memory, instead of a file.

    Attributes:
        faces (Tensor): ``(1538, 3)`` long triangle vertex ids (alias of ``th_faces``).
        th_v_template (Tensor): ``(1, 778, 3)`` rest vertices, metres.
        th_shapedirs (Tensor): ``(778, 3, 10)``; th_posedirs (Tensor): ``(2334, 135)``.
        th_J_regressor (Tensor): ``(16, 778)`` dense; th_weights (Tensor): ``(778, 16)``.
        th_comps (Tensor): ``(45, 45)`` PCA basis (rows); th_selected_comps: its first
            ``ncomps`` rows (all 45 without PCA).
        th_hands_mean (Tensor): ``(1, 45)`` mean added to the input (zeros when
            ``flat_hand_mean``); th_hands_mean_model: the model's ``hands_mean`` always.
        tip_ids (List[int]): the 5 fingertip vertex ids used.
    """

    def __init__(self,
                 mano_root: Optional[str] = 'data/mano',
                 side: str = 'right',
                 model_path: Optional[str] = None,
                 use_pca: bool = True,
                 ncomps: int = 6,
                 flat_hand_mean: bool = True,
                 center_idx: Optional[int] = None,
                 root_rot_mode: str = 'axisang',
                 joint_rot_mode: str = 'axisang',
                 robust_rot: bool = False,
                 units: str = 'mm',
                 fingertips: Union[str, Sequence[int]] = 'manopth',
                 fix_left_shapedirs: bool = False,
                 standin_seed: Optional[int] = None) -> None:
        super().__init__()
        if side not in _SIDE_FILES:
            raise ValueError(f"side must be 'right' or 'left', got {side!r}")
        if units not in ('mm', 'm'):
            raise ValueError(f"units must be 'mm' or 'm', got {units!r}")
        if joint_rot_mode not in ('axisang', 'rotmat'):
            raise ValueError(f"joint_rot_mode must be 'axisang' or 'rotmat', got "
                             f'{joint_rot_mode!r}')
        if root_rot_mode not in ('axisang', 'rot6d'):
            raise ValueError(f"root_rot_mode must be 'axisang' or 'rot6d', got "
                             f'{root_rot_mode!r}')
        if use_pca and not 1 <= ncomps <= 45:
            raise ValueError(f'ncomps must be in [1, 45] with use_pca, got {ncomps}')
        if center_idx is not None and not 0 <= center_idx < 21:
            raise ValueError(f'center_idx must be None or in [0, 20], got {center_idx}')
        self.side = side
        self.use_pca = use_pca
        self.ncomps = ncomps if use_pca else 45
        self.flat_hand_mean = flat_hand_mean
        self.center_idx = center_idx
        self.root_rot_mode = root_rot_mode
        self.joint_rot_mode = joint_rot_mode
        self.robust_rot = robust_rot
        self.units = units
        self.rot_dim = 6 if root_rot_mode == 'rot6d' else 3
        self.tip_ids = self._tip_ids(fingertips, side)

        if standin_seed is not None:
            # Imported here: the synthetic world builds on this package, not the reverse.
            from mmhandobj.synthetic.hand_model import standin_mano_arrays
            model = standin_mano_arrays(side, standin_seed)
        else:
            if model_path is None:
                if mano_root is None:
                    raise ValueError('give mano_root, model_path or standin_seed')
                model_path = osp.join(mano_root, _SIDE_FILES[side])
            model = load_mano_model(model_path)
        self.model_path = model_path
        self._register_model(model, fix_left_shapedirs and side == 'left')

    @staticmethod
    def _tip_ids(fingertips: Union[str, Sequence[int]], side: str) -> List[int]:
        if isinstance(fingertips, str):
            if fingertips not in FINGERTIP_VERTS:
                raise ValueError(f'unknown fingertips convention {fingertips!r}; expected one '
                                 f'of {sorted(FINGERTIP_VERTS)} or a list of 5 vertex ids')
            return list(FINGERTIP_VERTS[fingertips][side])
        ids = [int(i) for i in fingertips]
        if len(ids) != 5 or min(ids) < 0 or max(ids) >= 778:
            raise ValueError(f'fingertips must list 5 vertex ids in [0, 777], got {ids}')
        return ids

    def _register_model(self, model: Dict[str, np.ndarray], flip_shapedirs: bool) -> None:
        def buffer(name: str, value: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
            self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(value),
                                                       dtype=dtype), persistent=False)

        shapedirs = model['shapedirs'].copy()
        if flip_shapedirs:
            shapedirs[:, 0, :] *= -1
        buffer('th_v_template', model['v_template'][None])
        buffer('th_shapedirs', shapedirs)
        # Joints are linear in the betas: precompute the regressed template and directions.
        buffer('_joint_template', (model['J_regressor'] @ model['v_template'])[None])
        buffer('_joint_shapedirs', np.einsum('jv,vck->jck', model['J_regressor'], shapedirs))
        buffer('th_posedirs', model['posedirs'].reshape(778 * 3, 135))
        buffer('th_J_regressor', model['J_regressor'])
        buffer('th_weights', model['weights'])
        buffer('th_faces', model['f'], torch.long)
        buffer('th_comps', model['hands_components'])
        buffer('th_selected_comps', model['hands_components'][:self.ncomps])
        hands_mean = np.zeros(45) if self.flat_hand_mean else model['hands_mean']
        buffer('th_hands_mean', hands_mean[None])
        buffer('th_hands_mean_model', model['hands_mean'][None])

        parents = [int(p) for p in model['kintree_table'][0]]
        parents[0] = -1
        if any(not 0 <= p < j for j, p in enumerate(parents) if j > 0):
            raise ValueError(f'MANO file {self.model_path}: kintree_table parents {parents} '
                             'are not a tree rooted at joint 0 in topological order')
        self.parents = parents
        depth = [0] * 16
        for j in range(1, 16):
            depth[j] = depth[parents[j]] + 1
        self._levels: List[Tuple[List[int], List[int]]] = []
        for d in range(1, max(depth) + 1):
            joints = [j for j in range(16) if depth[j] == d]
            self._levels.append((joints, [parents[j] for j in joints]))
        buffer('_parent_index', np.array([0] + parents[1:]), torch.long)
        buffer('_output_index', np.array(MANO_TO_SIMPLE), torch.long)
        buffer('_tip_index', np.array(self.tip_ids), torch.long)

    @property
    def faces(self) -> torch.Tensor:
        """``(1538, 3)`` long vertex ids of the triangles (same as ``th_faces``)."""
        return self.th_faces

    def pose_to_rotmats(self, th_pose_coeffs: torch.Tensor) -> torch.Tensor:
        """Turn the pose input of :meth:`forward` into 16 rotation matrices.

        Args:
            th_pose_coeffs: Pose input, see :meth:`forward`.

        Returns:
            ``(B, 16, 3, 3)`` joint rotations (MANO joint order, global rotation first).
        """
        dtype = self.th_v_template.dtype
        pose = th_pose_coeffs.to(dtype)
        if self.joint_rot_mode == 'rotmat':
            if pose.dim() == 2 and pose.shape[1] == 144:
                pose = pose.reshape(-1, 16, 3, 3)
            if pose.dim() != 4 or pose.shape[1:] != (16, 3, 3):
                raise ValueError('rotmat pose must have shape (B, 16, 3, 3) or (B, 144), got '
                                 f'{tuple(th_pose_coeffs.shape)}')
            return pose
        expected = self.rot_dim + self.ncomps
        if pose.dim() != 2 or pose.shape[1] != expected:
            what = f'{self.ncomps} PCA coefficients' if self.use_pca else '45 axis-angle values'
            raise ValueError(f'pose must have shape (B, {expected}) ({self.rot_dim} global '
                             f'rotation values + {what}), got {tuple(th_pose_coeffs.shape)}')
        hand = pose[:, self.rot_dim:]
        if self.use_pca:
            hand = hand @ self.th_selected_comps
        hand = hand + self.th_hands_mean
        hand_rot = axis_angle_to_matrix(hand.reshape(-1, 15, 3))
        root = pose[:, :self.rot_dim]
        if self.root_rot_mode == 'axisang':
            root_rot = axis_angle_to_matrix(root)
        elif self.robust_rot:
            root_rot = robust_rot6d_to_matrix(root)
        else:
            root_rot = rot6d_to_matrix(root)
        return torch.cat([root_rot[:, None], hand_rot], dim=1)

    def forward(self,
                th_pose_coeffs: torch.Tensor,
                th_betas: Optional[torch.Tensor] = None,
                th_trans: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Pose and shape the hand.

        Args:
            th_pose_coeffs: ``'axisang'`` mode: ``(B, 3 + ncomps)`` (global axis-angle + PCA
                coefficients) when ``use_pca``, else ``(B, 48)`` (global + 15 joint
                axis-angles, MANO joint order); with ``root_rot_mode='rot6d'`` the global
                part has 6 values. ``'rotmat'`` mode: ``(B, 16, 3, 3)`` or ``(B, 144)``.
            th_betas: ``(B, 10)`` or ``(1, 10)`` shape parameters; zeros when None.
            th_trans: ``(B, 3)`` translation in metres, added after posing (before the unit
                conversion). When None or all zero and ``center_idx`` is set, the output is
                centred on joint ``center_idx`` instead (manopth behaviour).

        Returns:
            tuple: ``verts`` ``(B, 778, 3)`` and ``joints`` ``(B, 21, 3)`` (simple order), in
            ``units`` (mm by default). Inputs are cast to the dtype of the buffers.
        """
        rotmats = self.pose_to_rotmats(th_pose_coeffs)
        batch = rotmats.shape[0]
        dtype = rotmats.dtype
        v_shaped = self.th_v_template.expand(batch, -1, -1)
        rest_joints = self._joint_template.expand(batch, -1, -1)
        if th_betas is not None:
            betas = th_betas.to(dtype).reshape(-1, 10)
            v_shaped = v_shaped + (betas @ self.th_shapedirs.reshape(-1, 10).T).reshape(
                -1, 778, 3)
            rest_joints = rest_joints + (betas @ self._joint_shapedirs.reshape(-1, 10).T).reshape(
                -1, 16, 3)

        eye = torch.eye(3, dtype=dtype, device=rotmats.device)
        pose_map = (rotmats[:, 1:] - eye).reshape(batch, 135)
        v_posed = v_shaped + (pose_map @ self.th_posedirs.T).reshape(batch, 778, 3)

        global_rot, global_pos = self._kinematic_chain(rotmats, rest_joints)
        # Skinning: vertex v moves by sum_j w_vj [R_j | p_j - R_j J_j] applied to v_posed.
        offsets = global_pos - (global_rot * rest_joints[:, :, None, :]).sum(-1)
        transforms = torch.cat([global_rot, offsets[..., None]], dim=-1).reshape(batch, 16, 12)
        blended = (self.th_weights @ transforms).reshape(batch, 778, 3, 4)
        verts = (blended[..., :3] * v_posed[:, :, None, :]).sum(-1) + blended[..., 3]

        joints = torch.cat([global_pos, verts[:, self._tip_index]], dim=1)
        joints = joints[:, self._output_index]
        if th_trans is None or not bool(torch.any(th_trans != 0)):
            if self.center_idx is not None:
                centre = joints[:, self.center_idx:self.center_idx + 1]
                joints = joints - centre
                verts = verts - centre
        else:
            trans = th_trans.to(dtype).reshape(-1, 1, 3)
            joints = joints + trans
            verts = verts + trans
        if self.units == 'mm':
            verts = verts * 1000.0
            joints = joints * 1000.0
        return verts, joints

    def _kinematic_chain(self, rotmats: torch.Tensor,
                         rest_joints: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Compose the local rotations down the tree, one tree level at a time.

        Args:
            rotmats: ``(B, 16, 3, 3)`` local joint rotations.
            rest_joints: ``(B, 16, 3)`` joint positions of the shaped rest mesh.

        Returns:
            tuple: global rotations ``(B, 16, 3, 3)`` and posed joint positions ``(B, 16, 3)``.
        """
        bones = rest_joints - rest_joints[:, self._parent_index]
        global_rot = [rotmats[:, 0]] + [None] * 15
        global_pos = [rest_joints[:, 0]] + [None] * 15
        for joints, parents in self._levels:
            parent_rot = torch.stack([global_rot[p] for p in parents], dim=1)
            parent_pos = torch.stack([global_pos[p] for p in parents], dim=1)
            rot = parent_rot @ rotmats[:, joints]
            pos = parent_pos + (parent_rot * bones[:, joints, None, :]).sum(-1)
            for k, j in enumerate(joints):
                global_rot[j] = rot[:, k]
                global_pos[j] = pos[:, k]
        return torch.stack(global_rot, dim=1), torch.stack(global_pos, dim=1)
