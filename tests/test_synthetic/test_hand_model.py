"""The procedural stand-in MANO model is a valid, hand-like model."""
import sys
from collections import Counter

import numpy as np
import pytest
import torch
from repo_scripts import load_script

from mmhandobj.models.mano import ManoLayer, load_mano_model
from mmhandobj.structures.joint_orders import FINGERTIP_VERTS
from mmhandobj.synthetic import standin_mano_arrays

#: MANO joints of each finger (proximal to distal), MANO joint order.
FINGER_JOINTS = {'thumb': (13, 14, 15), 'index': (1, 2, 3), 'middle': (4, 5, 6),
                 'ring': (10, 11, 12), 'pinky': (7, 8, 9)}
TIP_ORDER = ('thumb', 'index', 'middle', 'ring', 'pinky')


@pytest.fixture(scope='module')
def right():
    return standin_mano_arrays('right', 0)


def test_keys_shapes_dtypes_and_tree(right):
    shapes = {'v_template': (778, 3), 'shapedirs': (778, 3, 10), 'posedirs': (778, 3, 135),
              'J_regressor': (16, 778), 'weights': (778, 16), 'f': (1538, 3),
              'kintree_table': (2, 16), 'hands_components': (45, 45), 'hands_mean': (45,),
              'J': (16, 3)}
    for key, shape in shapes.items():
        assert right[key].shape == shape, key
    assert right['bs_style'] == 'lbs' and right['bs_type'] == 'lrotmin'
    assert right['kintree_table'][0, 0] == 4294967295
    np.testing.assert_array_equal(right['kintree_table'][0, 1:],
                                  [0, 1, 2, 0, 4, 5, 0, 7, 8, 0, 10, 11, 0, 13, 14])
    np.testing.assert_array_equal(right['kintree_table'][1], np.arange(16))
    np.testing.assert_allclose(right['weights'].sum(1), 1.0, atol=1e-12)
    assert right['weights'].min() >= 0
    np.testing.assert_allclose(right['J_regressor'].sum(1), 1.0, atol=1e-12)
    assert (right['J_regressor'] != 0).sum() < 200  # sparse, as in MANO
    np.testing.assert_allclose(right['J'], right['J_regressor'] @ right['v_template'])
    comps = right['hands_components']
    np.testing.assert_allclose(comps @ comps.T, np.eye(45), atol=1e-10)


def test_mesh_is_one_oriented_surface_open_at_a_16_vertex_wrist(right):
    faces = right['f']
    assert faces.min() >= 0 and faces.max() == 777
    assert len(np.unique(faces)) == 778
    directed = Counter((int(a), int(b)) for tri in faces for a, b in zip(tri, np.roll(tri, -1)))
    assert max(directed.values()) == 1  # consistent orientation, no duplicate faces
    boundary = [e for e in directed if (e[1], e[0]) not in directed]
    assert len(boundary) == 16
    following = dict(boundary)
    loop = [boundary[0][0]]
    while following[loop[-1]] != loop[0]:
        loop.append(following[loop[-1]])
    assert len(loop) == 16
    # The wrist opening is the part of the mesh farthest along +x (away from the fingers).
    verts = right['v_template']
    assert verts[loop, 0].min() > verts[:, 0].max() - 0.01
    # Outward orientation: positive enclosed volume (the opening is capped by a fan).
    centre = verts[loop].mean(0)
    cap = [(b, a, -1) for a, b in boundary]
    closed = np.concatenate([verts, centre[None]])
    tris = closed[np.concatenate([faces, np.array(cap)])]
    volume = np.einsum('ij,ij->i', tris[:, 0], np.cross(tris[:, 1], tris[:, 2])).sum() / 6
    assert 1e-4 < volume < 1e-3  # a hand is a few hundred cm^3


def finger_vertices(model, name):
    dominant = model['weights'].argmax(1)
    return np.flatnonzero(np.isin(dominant, FINGER_JOINTS[name]))


def test_tip_vertices_of_all_conventions_are_fingertips(right):
    verts, joints = right['v_template'], right['J']
    for k, name in enumerate(TIP_ORDER):
        on_finger = finger_vertices(right, name)
        distal = verts[on_finger] - joints[FINGER_JOINTS[name][0]]
        apex = on_finger[np.argmax(np.linalg.norm(distal, axis=1))]
        assert apex == FINGERTIP_VERTS['manopth']['right'][k], name
        for convention in FINGERTIP_VERTS.values():
            for side in ('right', 'left'):
                tip = convention[side][k]
                assert tip in on_finger, (name, tip)
                assert np.linalg.norm(verts[tip] - verts[apex]) < 0.008, (name, tip)
    # Fingertips lie beyond the DIP joints, far from the wrist.
    for name in TIP_ORDER:
        tip = FINGERTIP_VERTS['manopth']['right'][TIP_ORDER.index(name)]
        dip = joints[FINGER_JOINTS[name][2]]
        assert np.linalg.norm(verts[tip] - joints[0]) > np.linalg.norm(dip - joints[0])


def test_bending_a_finger_moves_only_that_finger():
    layer = ManoLayer(use_pca=False, units='m', standin_seed=0).double()
    rest_verts, rest_joints = layer(torch.zeros(1, 48, dtype=torch.float64))
    pose = torch.zeros(1, 48, dtype=torch.float64)
    for joint in FINGER_JOINTS['index']:
        pose[0, 3 * joint + 2] = 0.8  # +z is the curl axis of the straight fingers
    verts, joints = layer(pose)
    moved = (joints - rest_joints).norm(dim=-1)[0]
    # simple order: 1-4 thumb, 5-8 index, 9-12 middle, 13-16 ring, 17-20 pinky
    assert moved[8] > 0.04 and moved[6] > 0.01
    assert moved[[0, 5]].max() < 1e-12
    assert moved[[1, 2, 3, 4, 9, 12, 16, 20]].max() < 1e-12
    # The index tip curls towards the palm side (-y).
    assert joints[0, 8, 1] < rest_joints[0, 8, 1] - 0.03
    thumb_verts = finger_vertices(standin_mano_arrays('right', 0), 'thumb')
    assert (verts - rest_verts)[0, thumb_verts].abs().max() < 1e-12


def test_first_pca_component_closes_the_hand():
    layer = ManoLayer(use_pca=True, ncomps=1, units='m', standin_seed=0).double()
    _, open_joints = layer(torch.zeros(1, 4, dtype=torch.float64))
    _, fist_joints = layer(torch.tensor([[0.0, 0.0, 0.0, 3.0]], dtype=torch.float64))
    open_spread = (open_joints[0, [8, 12, 16, 20]] - open_joints[0, 0]).norm(dim=-1)
    fist_spread = (fist_joints[0, [8, 12, 16, 20]] - fist_joints[0, 0]).norm(dim=-1)
    assert (fist_spread < open_spread - 0.03).all()
    mean = ManoLayer(use_pca=False, flat_hand_mean=False, units='m', standin_seed=0).double()
    _, mean_joints = mean(torch.zeros(1, 48, dtype=torch.float64))
    mean_spread = (mean_joints[0, [8, 12, 16, 20]] - mean_joints[0, 0]).norm(dim=-1)
    assert (mean_spread < open_spread).all()  # the mean pose is slightly curled


def test_left_model_is_the_mirror_image(right):
    left = standin_mano_arrays('left', 0)
    mirror = np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(left['v_template'], right['v_template'] * mirror)
    np.testing.assert_array_equal(left['f'], right['f'][:, ::-1])
    np.testing.assert_array_equal(left['weights'], right['weights'])
    rng = np.random.default_rng(0)
    pose = rng.normal(0, 0.6, size=(3, 48))
    betas = rng.normal(size=(3, 10))
    mirrored_pose = pose.reshape(3, 16, 3) * np.array([1.0, -1.0, -1.0])
    right_layer = ManoLayer(use_pca=False, flat_hand_mean=False, standin_seed=0).double()
    # manopth's left middle tip (445) differs from the right one (444): use the same ids.
    left_layer = ManoLayer(side='left', use_pca=False, flat_hand_mean=False,
                           fingertips=FINGERTIP_VERTS['manopth']['right'],
                           standin_seed=0).double()
    right_verts, right_joints = right_layer(torch.from_numpy(pose), torch.from_numpy(betas))
    left_verts, left_joints = left_layer(torch.from_numpy(mirrored_pose.reshape(3, 48)),
                                         torch.from_numpy(betas))
    np.testing.assert_allclose(left_verts.numpy(), right_verts.numpy() * mirror, atol=1e-6)
    np.testing.assert_allclose(left_joints.numpy(), right_joints.numpy() * mirror, atol=1e-6)


def test_deterministic_in_seed(right):
    again = standin_mano_arrays('right', 0)
    other = standin_mano_arrays('right', 1)
    for key in ('v_template', 'posedirs', 'shapedirs', 'hands_components'):
        np.testing.assert_array_equal(again[key], right[key])
    np.testing.assert_array_equal(other['v_template'], right['v_template'])
    assert not np.array_equal(other['posedirs'], right['posedirs'])
    again['v_template'][:] = 0  # callers get copies
    assert standin_mano_arrays('right', 0)['v_template'].any()
    with pytest.raises(ValueError, match="side must be 'right' or 'left'"):
        standin_mano_arrays('middle')


def test_cli_writes_both_sides(tmp_path, monkeypatch, capsys):
    tool = load_script('tools/misc/make_standin_mano.py', 'make_standin_mano_tool')
    monkeypatch.setattr(sys, 'argv', ['make_standin_mano.py', '--out-dir', str(tmp_path),
                                      '--seed', '3'])
    tool.main()
    assert 'MANO_RIGHT.pkl' in capsys.readouterr().out
    for side in ('right', 'left'):
        loaded = load_mano_model(str(tmp_path / f'MANO_{side.upper()}.pkl'))
        np.testing.assert_array_equal(loaded['posedirs'],
                                      standin_mano_arrays(side, 3)['posedirs'])
    monkeypatch.setattr(sys, 'argv', ['make_standin_mano.py', '--out-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='pass --force'):
        tool.main()
