"""Differentiable MANO hand layer with manopth-compatible arguments and outputs."""
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import nn

from mmhandobj.registry import HAND_MODELS, MODELS
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS, MANO_TO_SIMPLE

from .mano_loader import load_mano_model
from .rotations import axis_angle_to_matrix, robust_rot6d_to_matrix, rot6d_to_matrix
from .skinning import skin

_SIDE_FILES = {'right': 'MANO_RIGHT.pkl', 'left': 'MANO_LEFT.pkl'}
#: Name of the synthetic world's procedural hand in :data:`~mmhandobj.registry.HAND_MODELS`.
STANDIN_HAND_MODEL = 'standin'


#: Folder of the MANO files when neither ``mano_root`` nor ``model_path`` is given.
DEFAULT_MANO_ROOT = 'data/mano'


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
        standin_seed: If not None, use the procedural stand-in model of that seed, built in
            memory instead of read from a file: ``'standin'`` of
            :data:`~mmhandobj.registry.HAND_MODELS`, which :mod:`mmhandobj.synthetic` provides.
        model: The model's arrays themselves (the keys :func:`load_mano_model` returns);
            overrides every other source.
            Refused together with ``model_path`` or a ``mano_root`` other than the default.

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
                 mano_root: Optional[str] = DEFAULT_MANO_ROOT,
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
                 standin_seed: Optional[int] = None,
                 model: Optional[Mapping[str, np.ndarray]] = None) -> None:
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

        if standin_seed is not None and (model_path is not None
                                         or mano_root not in (None, DEFAULT_MANO_ROOT)):
            raise ValueError(f'give either standin_seed ({standin_seed}) or a MANO file '
                             f'(mano_root {mano_root!r}, model_path {model_path!r}), not both')
        if model is None and standin_seed is not None:
            model = HAND_MODELS.build(dict(type=STANDIN_HAND_MODEL, side=side, seed=standin_seed))
        elif model is None:
            if model_path is None:
                if mano_root is None:
                    raise ValueError('give mano_root, model_path, standin_seed or model')
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

    def _buffer(self, name: str, value: np.ndarray, dtype: torch.dtype = torch.float32) -> None:
        self.register_buffer(name, torch.as_tensor(np.ascontiguousarray(value), dtype=dtype),
                             persistent=False)

    def _register_model(self, model: Dict[str, np.ndarray], flip_shapedirs: bool) -> None:
        buffer = self._buffer
        shapedirs = model['shapedirs'].copy()
        if flip_shapedirs:
            shapedirs[:, 0, :] *= -1
        buffer('th_v_template', model['v_template'][None])
        buffer('th_shapedirs', shapedirs)
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
            raise ValueError(f'MANO model {self.model_path or "(arrays)"}: kintree_table parents '
                             f'{parents} '
                             'are not a tree rooted at joint 0 in topological order')
        self.parents = parents
        self._register_chain(model, shapedirs)
        buffer('_tip_index', np.array(self.tip_ids), torch.long)

    def _register_chain(self, model: Dict[str, np.ndarray], shapedirs: np.ndarray) -> None:
        """Precompute the layouts :meth:`forward` runs on.

        The kinematic chain works on the joints sorted by tree depth (root, then every joint
        of depth 1, ...), so each level is one contiguous slice whose parents are the previous
        slice. The rest joints, the bone vectors and the skinning weights are stored in that
        order; the posed rest vertices coordinate-major (``(3, 778)`` flattened), with the
        shape and pose blend shapes stacked into one ``(10 + 135, 3 * 778)`` matrix.
        """
        buffer = self._buffer
        depth = [0] * 16
        for j in range(1, 16):
            depth[j] = depth[self.parents[j]] + 1
        order = sorted(range(16), key=lambda j: (depth[j], j))
        position = {j: i for i, j in enumerate(order)}
        # Per level: (start, end) of its slice, and how to pick each joint's parent from the
        # previous level's output: None = the same order or a single parent (broadcast), else
        # positions inside that level.
        self._levels: List[Tuple[int, int, Optional[List[int]]]] = []
        for d in range(1, max(depth) + 1):
            joints = [j for j in order if depth[j] == d]
            prev = [j for j in order if depth[j] == d - 1]
            start = position[joints[0]]
            picks = [prev.index(self.parents[j]) for j in joints]
            same = len(prev) == 1 or picks == list(range(len(prev)))
            self._levels.append((start, start + len(joints), None if same else picks))
        buffer('_level_order', np.array(order), torch.long)
        # bones = bone_matrix @ rest_joints (level order): J_j - J_parent(j), J_0 for the root.
        bone_matrix = np.eye(16)
        for j in range(1, 16):
            bone_matrix[position[j], position[self.parents[j]]] = -1.0
        buffer('_bone_matrix', bone_matrix)
        # Joints are linear in the betas: precompute the regressed template and directions.
        regressor = model['J_regressor'][order]
        buffer('_joint_template', (regressor @ model['v_template'])[None])
        buffer('_joint_shapedirs', np.einsum('jv,vck->kjc', regressor, shapedirs).reshape(10, 48))
        buffer('_weights', model['weights'][:, order])
        buffer('_weights_t', model['weights'][:, order].T)
        shape_rows = shapedirs.transpose(2, 1, 0).reshape(10, 3 * 778)
        pose_rows = model['posedirs'].transpose(2, 1, 0).reshape(135, 3 * 778)
        buffer('_blend_dirs', np.concatenate([shape_rows, pose_rows]))
        buffer('_template_coords', model['v_template'].T.reshape(1, 3 * 778))
        # Output joint j (simple order) is row _output_index[j] of the posed joints (level
        # order) followed by the five fingertips.
        buffer('_output_index', np.array([position[m] if m < 16 else m for m in MANO_TO_SIMPLE]),
               torch.long)

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
        root = pose[:, :self.rot_dim]
        if self.root_rot_mode == 'axisang':  # one conversion for all 16 joints
            return axis_angle_to_matrix(torch.cat([root, hand], dim=1).reshape(-1, 16, 3))
        hand_rot = axis_angle_to_matrix(hand.reshape(-1, 15, 3))
        if self.robust_rot:
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
        eye = torch.eye(3, dtype=dtype, device=rotmats.device)
        pose_map = (rotmats[:, 1:] - eye).reshape(batch, 135)
        rest_joints = self._joint_template.expand(batch, -1, -1)  # level order
        if th_betas is not None:
            betas = th_betas.to(dtype).reshape(-1, 10).expand(batch, -1)
            v_posed = torch.addmm(self._template_coords, torch.cat([betas, pose_map], dim=1),
                                  self._blend_dirs)
            rest_joints = rest_joints + (betas @ self._joint_shapedirs).reshape(-1, 16, 3)
        else:
            v_posed = torch.addmm(self._template_coords, pose_map, self._blend_dirs[10:])

        world = self._kinematic_chain(rotmats[:, self._level_order], rest_joints)
        # Skinning: vertex v moves by sum_j w_vj [R_j | p_j - R_j J_j] applied to v_posed.
        rot, pos = world[..., :3], world[..., 3]
        offsets = pos - (rot @ rest_joints[..., None])[..., 0]
        transforms = torch.cat([rot, offsets[..., None]], dim=-1).reshape(batch, 16, 12)
        verts = skin(v_posed.view(batch, 3, 778), transforms.transpose(1, 2), self._weights_t,
                     self._weights)

        joints = torch.cat([pos, verts[:, self._tip_index]], dim=1)[:, self._output_index]
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

    def _kinematic_chain(self, rotmats: torch.Tensor, rest_joints: torch.Tensor) -> torch.Tensor:
        """Compose the local transforms down the tree, one tree level at a time.

        Args:
            rotmats: ``(B, 16, 3, 3)`` local joint rotations, joints in level order.
            rest_joints: ``(B, 16, 3)`` joint positions of the shaped rest mesh, level order.

        Returns:
            ``(B, 16, 3, 4)`` world transforms ``[R | p]`` of the joints (level order): global
            rotation and posed joint position.
        """
        batch = rotmats.shape[0]
        bones = self._bone_matrix @ rest_joints
        local = torch.cat([rotmats, bones[..., None]], dim=-1)
        bottom = local.new_tensor([0.0, 0.0, 0.0, 1.0]).expand(batch, 16, 1, 4)
        local = torch.cat([local, bottom], dim=-2)  # homogeneous (B, 16, 4, 4)
        world = [local[:, :1, :3]]
        for start, end, picks in self._levels:
            parent = world[-1]
            if picks is not None:
                parent = parent[:, picks]
            world.append(parent @ local[:, start:end])
        return torch.cat(world, dim=1)
