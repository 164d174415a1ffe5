"""ManoLayer against an independent slow float64 implementation written here."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from mmhandobj.models.mano import ManoLayer
from mmhandobj.registry import MODELS
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS, MANO_TO_SIMPLE
from mmhandobj.synthetic import make_standin_mano, standin_mano_arrays
from mmhandobj.utils import with_standin_mano

REPO_ROOT = Path(__file__).parents[3]


def rodrigues(axis_angle):
    """R = cos t I + sin t [k]x + (1 - cos t) k k^T, with k the unit axis."""
    angle = np.linalg.norm(axis_angle)
    if angle < 1e-12:
        return np.eye(3)
    k = axis_angle / angle
    cross = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return math.cos(angle) * np.eye(3) + math.sin(angle) * cross + \
        (1 - math.cos(angle)) * np.outer(k, k)


def slow_mano(model, rotations, betas, tips):
    """One hand: explicit loops over joints; returns verts (778, 3), joints (21, 3) in m."""
    parents = [int(p) for p in model['kintree_table'][0]]
    v_shaped = model['v_template'] + model['shapedirs'] @ betas
    rest = model['J_regressor'] @ v_shaped
    pose_feature = np.concatenate([(r - np.eye(3)).ravel() for r in rotations[1:]])
    v_posed = v_shaped + model['posedirs'] @ pose_feature
    world = []
    for j in range(16):
        local = np.eye(4)
        local[:3, :3] = rotations[j]
        if j == 0:
            local[:3, 3] = rest[0]
            world.append(local)
        else:
            local[:3, 3] = rest[j] - rest[parents[j]]
            world.append(world[parents[j]] @ local)
    verts = np.zeros((778, 3))
    homog = np.concatenate([v_posed, np.ones((778, 1))], axis=1)
    for j in range(16):
        skin = world[j].copy()
        skin[:3, 3] -= world[j][:3, :3] @ rest[j]
        verts += model['weights'][:, j:j + 1] * (homog @ skin.T)[:, :3]
    joints = np.concatenate([np.stack([w[:3, 3] for w in world]), verts[tips]])
    return verts, joints[MANO_TO_SIMPLE]


def slow_forward(model, pose, betas, trans, *, use_pca, ncomps, flat, center_idx, units,
                 tips):
    """Batched reference: loops over the batch."""
    all_verts, all_joints = [], []
    for b in range(len(pose)):
        hand = pose[b, 3:] @ model['hands_components'][:ncomps] if use_pca else pose[b, 3:]
        if not flat:
            hand = hand + model['hands_mean']
        full = np.concatenate([pose[b, :3], hand]).reshape(16, 3)
        verts, joints = slow_mano(model, [rodrigues(a) for a in full], betas[b], tips)
        all_verts.append(verts)
        all_joints.append(joints)
    verts, joints = np.stack(all_verts), np.stack(all_joints)
    if trans is None or not np.any(trans):
        if center_idx is not None:
            centre = joints[:, center_idx:center_idx + 1].copy()
            verts, joints = verts - centre, joints - centre
    else:
        verts, joints = verts + trans[:, None], joints + trans[:, None]
    scale = 1000.0 if units == 'mm' else 1.0
    return verts * scale, joints * scale


CASES = [
    # side, use_pca, ncomps, flat, batch, center_idx, with_trans, units
    ('right', True, 6, True, 1, None, False, 'mm'),
    ('right', True, 45, False, 64, 0, False, 'mm'),
    ('right', False, 45, True, 64, 0, True, 'm'),
    ('right', False, 45, False, 1, 9, False, 'mm'),
    ('left', True, 6, False, 64, None, True, 'mm'),
    ('left', True, 45, True, 1, 0, True, 'm'),
    ('left', False, 45, False, 64, 4, False, 'm'),
    ('left', False, 45, True, 1, None, False, 'mm'),
]


@pytest.mark.parametrize('side,use_pca,ncomps,flat,batch,center_idx,with_trans,units', CASES)
@pytest.mark.parametrize('dtype', [torch.float32, torch.float64])
def test_forward_matches_slow_reference(side, use_pca, ncomps, flat, batch, center_idx,
                                        with_trans, units, dtype):
    rng = np.random.default_rng(batch + ncomps)
    model = standin_mano_arrays(side, 0)
    layer = ManoLayer(side=side, use_pca=use_pca, ncomps=ncomps, flat_hand_mean=flat,
                      center_idx=center_idx, units=units, standin_seed=0).to(dtype)
    width = 3 + (ncomps if use_pca else 45)
    pose = rng.normal(0.0, 0.6, size=(batch, width))
    betas = rng.normal(0.0, 1.0, size=(batch, 10))
    trans = rng.normal(0.0, 0.2, size=(batch, 3)) if with_trans else None
    verts, joints = layer(torch.from_numpy(pose), torch.from_numpy(betas),
                          None if trans is None else torch.from_numpy(trans))
    assert verts.dtype == dtype and verts.shape == (batch, 778, 3)
    assert joints.shape == (batch, 21, 3)
    ref_verts, ref_joints = slow_forward(
        model, pose, betas, trans, use_pca=use_pca, ncomps=ncomps, flat=flat,
        center_idx=center_idx, units=units, tips=FINGERTIP_VERTS['manopth'][side])
    atol = 1e-3 if units == 'mm' else 1e-6  # 1e-3 mm either way
    np.testing.assert_allclose(verts.numpy(), ref_verts, atol=atol, rtol=0)
    np.testing.assert_allclose(joints.numpy(), ref_joints, atol=atol, rtol=0)


def test_zero_trans_centres_and_betas_default_to_zero():
    layer = ManoLayer(use_pca=False, center_idx=0, standin_seed=0).double()
    pose = torch.zeros(2, 48, dtype=torch.float64)
    verts, joints = layer(pose, None, torch.zeros(2, 3))
    assert torch.equal(joints[:, 0], torch.zeros(2, 3, dtype=torch.float64))
    rest = standin_mano_arrays('right', 0)['v_template'] * 1000
    wrist = standin_mano_arrays('right', 0)['J'][0] * 1000
    # Buffers are stored in float32, hence the 1e-5 mm tolerance.
    np.testing.assert_allclose(verts[0].numpy(), rest - wrist, atol=1e-5)


def test_rotmat_and_rot6d_inputs_match_axis_angle():
    rng = np.random.default_rng(5)
    aa = torch.from_numpy(rng.normal(0, 0.5, size=(3, 48)))
    betas = torch.from_numpy(rng.normal(size=(3, 10)))
    base = ManoLayer(use_pca=False, standin_seed=0).double()
    rotmats = torch.from_numpy(np.stack([[rodrigues(a) for a in p.reshape(16, 3)]
                                         for p in aa.numpy()]))
    rotmat_layer = ManoLayer(use_pca=False, joint_rot_mode='rotmat', standin_seed=0).double()
    expected = base(aa, betas)
    for pose in (rotmats, rotmats.reshape(3, 144)):
        for out, ref in zip(rotmat_layer(pose, betas), expected):
            np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-9)
    # 6D global rotation: the first two columns of the global rotation matrix.
    six = torch.cat([rotmats[:, 0, :, 0], rotmats[:, 0, :, 1], aa[:, 3:]], dim=1)
    for robust in (False, True):
        layer = ManoLayer(use_pca=False, root_rot_mode='rot6d', robust_rot=robust,
                          standin_seed=0).double()
        for out, ref in zip(layer(six, betas), expected):
            np.testing.assert_allclose(out.numpy(), ref.numpy(), atol=1e-9)


def test_fingertip_conventions_and_left_shapedirs_fix():
    rng = np.random.default_rng(6)
    pose = torch.from_numpy(rng.normal(0, 0.5, size=(2, 48)))
    verts, _ = ManoLayer(use_pca=False, standin_seed=0).double()(pose)
    simple_tips = [4, 8, 12, 16, 20]
    for convention, sides in FINGERTIP_VERTS.items():
        _, joints = ManoLayer(use_pca=False, fingertips=convention,
                              standin_seed=0).double()(pose)
        np.testing.assert_allclose(joints[:, simple_tips].numpy(),
                                   verts[:, sides['right']].numpy(), atol=1e-9)
    ids = [1, 2, 3, 4, 5]
    _, joints = ManoLayer(use_pca=False, fingertips=ids, standin_seed=0).double()(pose)
    np.testing.assert_allclose(joints[:, simple_tips].numpy(), verts[:, ids].numpy())
    plain = ManoLayer(side='left', standin_seed=0)
    fixed = ManoLayer(side='left', fix_left_shapedirs=True, standin_seed=0)
    expected = plain.th_shapedirs.clone()
    expected[:, 0] *= -1
    assert torch.equal(fixed.th_shapedirs, expected)
    right_fixed = ManoLayer(side='right', fix_left_shapedirs=True, standin_seed=0)
    assert torch.equal(right_fixed.th_shapedirs, ManoLayer(standin_seed=0).th_shapedirs)


def test_gradients_match_finite_differences():
    layer = ManoLayer(use_pca=True, ncomps=6, flat_hand_mean=False, standin_seed=0,
                      units='m').double()
    projection = torch.from_numpy(np.random.default_rng(7).normal(size=(778 * 3, 4)))

    def func(pose, betas, trans):
        verts, joints = layer(pose, betas, trans)
        return torch.cat([joints.reshape(2, -1), verts.reshape(2, -1) @ projection], dim=1)

    rng = np.random.default_rng(8)
    inputs = tuple(torch.from_numpy(rng.normal(0, s, size=(2, n))).requires_grad_()
                   for s, n in ((0.5, 9), (1.0, 10), (0.1, 3)))
    assert torch.autograd.gradcheck(func, inputs, eps=1e-6, atol=1e-6)
    zero_pose = torch.zeros(1, 9, dtype=torch.float64, requires_grad=True)
    flat = ManoLayer(standin_seed=0).double()
    flat(zero_pose)[1].sum().backward()
    assert torch.isfinite(zero_pose.grad).all() and zero_pose.grad.abs().sum() > 0


def test_no_mano_data_in_state_dict_and_loads_from_file(tmp_path):
    make_standin_mano(str(tmp_path / 'MANO_RIGHT.pkl'), 'right', seed=0)
    layer = MODELS.build(dict(type='ManoLayer', mano_root=str(tmp_path), use_pca=False))
    assert layer.state_dict() == {}
    names = dict(layer.named_buffers())
    for name in ('th_v_template', 'th_shapedirs', 'th_posedirs', 'th_J_regressor',
                 'th_weights', 'th_faces', 'th_hands_mean', 'th_selected_comps'):
        assert name in names and name in layer._non_persistent_buffers_set
    parent = nn.Sequential(nn.Linear(2, 2), layer)
    assert set(parent.state_dict()) == {'0.weight', '0.bias'}
    assert layer.faces.shape == (1538, 3) and layer.faces.dtype == torch.long
    from_memory = ManoLayer(use_pca=False, standin_seed=0)
    pose = torch.rand(2, 48)
    for a, b in zip(layer(pose), from_memory(pose)):
        assert torch.equal(a, b)

    from_arrays = ManoLayer(use_pca=False, model=standin_mano_arrays('right', 0))
    for a, b in zip(layer(pose), from_arrays(pose)):
        assert torch.equal(a, b)


def test_standin_comes_from_the_synthetic_package_through_the_registry():
    """models never imports the generator: a fresh interpreter building ManoLayer(standin_seed)
    finds it in HAND_MODELS, whose location imports mmhandobj.synthetic on first use."""
    code = ('import sys; from mmhandobj.models.mano import ManoLayer; '
            "before = 'mmhandobj.synthetic' in sys.modules; "
            'layer = ManoLayer(use_pca=False, standin_seed=3); '
            "print(before, 'mmhandobj.synthetic' in sys.modules, "
            'float(layer.th_v_template.sum()))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         check=True, env={**os.environ, 'PYTHONPATH': str(REPO_ROOT)})
    before, after, total = out.stdout.split()
    assert (before, after) == ('False', 'True')
    expected = standin_mano_arrays('right', 3)['v_template'].astype(np.float32).sum()
    assert float(total) == pytest.approx(float(expected), rel=1e-6)


def test_with_standin_mano_keeps_the_configs_mano_arguments():
    head = dict(type='HandMANOHead', mano_cfg=dict(mano_root='data/mano', side='left',
                                                   units='m', fingertips='sho'))
    cfg = dict(type='SemiHandObject', hand_head=head)
    out = with_standin_mano(cfg, seed=2)
    assert out['hand_head']['mano_cfg'] == dict(side='left', units='m', fingertips='sho',
                                                standin_seed=2)
    assert cfg['hand_head']['mano_cfg']['mano_root'] == 'data/mano'  # the input is not touched
    assert with_standin_mano(dict(hand_head=dict()))['hand_head']['mano_cfg'] == dict(
        standin_seed=0)
    with pytest.raises(KeyError, match="'HandObjectDetector' has no hand_head"):
        with_standin_mano(dict(type='HandObjectDetector'))


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match=r'shape \(B, 9\) \(3 global rotation values \+ 6 PCA'):
        ManoLayer(standin_seed=0)(torch.zeros(2, 48))
    with pytest.raises(ValueError, match=r'\(B, 16, 3, 3\) or \(B, 144\)'):
        ManoLayer(joint_rot_mode='rotmat', standin_seed=0)(torch.zeros(2, 48))
    with pytest.raises(ValueError, match='unknown fingertips convention'):
        ManoLayer(fingertips='nope', standin_seed=0)
    with pytest.raises(ValueError, match="units must be 'mm' or 'm'"):
        ManoLayer(units='cm', standin_seed=0)
    with pytest.raises(ValueError, match='MANO_RIGHT.pkl: not found'):
        ManoLayer(mano_root='/nonexistent/mano')


def test_other_kinematic_tree_matches_slow_reference(tmp_path):
    # Joint 5 hangs off joint 1 instead of joint 4: the second tree level then has parents in
    # another order than the first (two children of joint 1, joint 4 a leaf), unlike MANO.
    model = dict(standin_mano_arrays('right', 0))
    kintree = model['kintree_table'].copy()
    kintree[0, 5] = 1
    model['kintree_table'] = kintree
    path = str(tmp_path / 'tree.npz')
    np.savez(path, **model)
    layer = ManoLayer(model_path=path, use_pca=False, center_idx=None).double()
    rng = np.random.default_rng(11)
    pose = rng.normal(0.0, 0.6, size=(3, 48))
    betas = rng.normal(0.0, 1.0, size=(3, 10))
    verts, joints = layer(torch.from_numpy(pose), torch.from_numpy(betas))
    ref_verts, ref_joints = slow_forward(
        model, pose, betas, None, use_pca=False, ncomps=45, flat=True, center_idx=None,
        units='mm', tips=FINGERTIP_VERTS['manopth']['right'])
    # Buffers are float32 (1e-5 mm); a wrong parent would be off by centimetres.
    np.testing.assert_allclose(verts.numpy(), ref_verts, atol=1e-3, rtol=0)
    np.testing.assert_allclose(joints.numpy(), ref_joints, atol=1e-3, rtol=0)


def test_axis_angle_gradients_match_finite_differences():
    # Full 45-value pose with the global rotation, in mm and centred (the training setup).
    layer = ManoLayer(use_pca=False, center_idx=0, standin_seed=0).double()
    projection = torch.from_numpy(np.random.default_rng(12).normal(size=(778 * 3, 3)))

    def func(pose, betas):
        verts, joints = layer(pose, betas)
        return torch.cat([joints.reshape(2, -1), verts.reshape(2, -1) @ projection], dim=1)

    rng = np.random.default_rng(13)
    pose = torch.from_numpy(rng.normal(0, 0.5, size=(2, 48))).requires_grad_()
    betas = torch.from_numpy(rng.normal(size=(2, 10))).requires_grad_()
    assert torch.autograd.gradcheck(func, (pose, betas), eps=1e-6, atol=1e-5, fast_mode=True)
