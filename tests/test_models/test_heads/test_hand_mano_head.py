import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmhandobj.models.heads import HandMANOHead
from mmhandobj.models.heads.hand_mano_head import HeatmapFeatureEncoder, MANOParamRegressor
from mmhandobj.models.heads.hourglass import Hourglass, HourglassHeatmapNet
from mmhandobj.registry import MODELS

MANO_CFG = dict(standin_seed=0)


@pytest.fixture(scope='module')
def head():
    torch.manual_seed(0)
    model = MODELS.build(dict(type='HandMANOHead', mano_cfg=MANO_CFG))
    model.init_weights()
    return model


def _shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def _n_params(module):
    return sum(p.numel() for p in module.parameters())


def test_submodule_parameter_counts_and_authors_keys(authors_keys):
    heatmap, encoder, regressor = HourglassHeatmapNet(), HeatmapFeatureEncoder(), \
        MANOParamRegressor()
    assert _n_params(heatmap) == 3_075_114
    assert _n_params(encoder) == 1_787_648
    assert _n_params(regressor) == 1_628_778
    assert _shapes(heatmap) == authors_keys('hand_head.')
    assert _shapes(encoder) == authors_keys('hand_encoder.')
    mano_branch = {k: v for k, v in authors_keys('mano_branch.').items()
                   if k != 'coord_change_mat' and not k.startswith('mano_layer.')}
    assert _shapes(regressor) == mano_branch


def test_head_state_dict_is_a_prefix_map_of_the_authors(head, authors_keys):
    expected = {**authors_keys('hand_head.', 'heatmap_head.'),
                **authors_keys('hand_encoder.', 'encoder.'),
                **authors_keys('mano_branch.', 'mano_regressor.')}
    del expected['mano_regressor.coord_change_mat']
    expected = {k: v for k, v in expected.items()
                if not k.startswith('mano_regressor.mano_layer.')}
    assert _shapes(head) == expected  # no MANO data in the state dict
    torch.testing.assert_close(head.heatmap_head.uu[3, 5], torch.tensor(5.5 / 32))
    torch.testing.assert_close(head.heatmap_head.vv[3, 5], torch.tensor(3.5 / 32))


def test_soft_argmax_on_peaked_heatmaps():
    net = HourglassHeatmapNet(num_joints=2)
    heatmaps = torch.zeros(1, 2, 32, 32)
    heatmaps[0, 0, 5, 9] = 1.0                       # one peak: row 5, column 9
    heatmaps[0, 1, 10, 20] = 0.25                    # two cells, weights 1/4 and 3/4
    heatmaps[0, 1, 30, 4] = 0.75
    uv = net.soft_argmax(heatmaps)
    expected = torch.tensor([[[9.5 / 32, 5.5 / 32],
                              [(0.25 * 20.5 + 0.75 * 4.5) / 32, (0.25 * 10.5 + 0.75 * 30.5) / 32]]])
    torch.testing.assert_close(uv, expected)


def test_spatial_softmax_scales_by_betas():
    torch.manual_seed(0)
    net = HourglassHeatmapNet(num_joints=3)
    with torch.no_grad():
        net.betas.copy_(torch.tensor([[1.0], [2.0], [0.5]]))
    latents = torch.randn(2, 3, 32, 32)
    heatmaps, _ = net.spatial_softmax(latents)
    for j, beta in enumerate((1.0, 2.0, 0.5)):
        e = torch.exp(beta * latents[:, j])
        torch.testing.assert_close(heatmaps[:, j], e / e.sum(dim=(1, 2), keepdim=True))


def test_hourglass_wiring_with_identity_blocks():
    """With every block reduced to the identity, level l computes x + up(f_{l-1}(pool(x)))."""
    hourglass = Hourglass(channels=4, depth=3).eval()
    with torch.no_grad():
        for block in hourglass.modules():
            if hasattr(block, 'conv3'):
                block.conv3.weight.zero_()
                block.conv3.bias.zero_()
    assert sum(1 for m in hourglass.modules() if hasattr(m, 'conv3')) == 3 * 3 + 1

    def explicit(x, level):
        low = F.max_pool2d(x, 2)
        low = low if level == 0 else explicit(low, level - 1)
        return x + low.repeat_interleave(2, dim=2).repeat_interleave(2, dim=3)

    x = torch.randn(2, 4, 16, 16)
    torch.testing.assert_close(hourglass(x), explicit(x, 2))
    with pytest.raises(ValueError, match='divisible'):
        hourglass(torch.randn(1, 4, 12, 12))


def test_forward_shapes_and_rotation_path(head):
    torch.manual_seed(1)
    x = torch.randn(2, 256, 32, 32)
    head.eval()
    with torch.no_grad():
        out = head(x)
        hm = head.heatmap_head(x)
        pose6d = head.mano_regressor(
            head.encoder(hm['hand_heatmaps'], hm['features']))['pose6d']
    expected_shapes = dict(hand_heatmaps=(2, 21, 32, 32), hand_heatmap_logits=(2, 21, 32, 32),
                           hand_joints2d_boxnorm=(2, 21, 2),
                           mano_pose_rotmat=(2, 16, 3, 3), mano_pose=(2, 48),
                           mano_shape=(2, 10), hand_verts3d=(2, 778, 3),
                           hand_joints3d=(2, 21, 3))
    assert {k: tuple(v.shape) for k, v in out.items()} == expected_shapes
    torch.testing.assert_close(out['hand_heatmaps'].sum(dim=(2, 3)), torch.ones(2, 21))
    assert ((out['hand_joints2d_boxnorm'] > 0) & (out['hand_joints2d_boxnorm'] < 1)).all()
    # Wrist-centred output (simple order, joint 0 = wrist).
    torch.testing.assert_close(out['hand_joints3d'][:, 0], torch.zeros(2, 3), atol=1e-7,
                               rtol=0)

    # 6D -> matrix: Gram-Schmidt columns, written out in numpy.
    a = pose6d.double().numpy().reshape(-1, 6)
    b1 = a[:, :3] / np.linalg.norm(a[:, :3], axis=1, keepdims=True)
    b2 = a[:, 3:] - (b1 * a[:, 3:]).sum(1, keepdims=True) * b1
    b2 /= np.linalg.norm(b2, axis=1, keepdims=True)
    rot = np.stack([b1, b2, np.cross(b1, b2)], axis=-1)
    np.testing.assert_allclose(out['mano_pose_rotmat'].reshape(-1, 3, 3).numpy(), rot,
                               atol=1e-5)
    # matrix -> axis-angle round trip, checked with OpenCV's Rodrigues.
    aa = out['mano_pose'].double().numpy().reshape(-1, 3)
    back = np.stack([cv2.Rodrigues(v)[0] for v in aa])
    np.testing.assert_allclose(back, rot, atol=1e-5)


def test_loss_on_hand_computed_example(head):
    batch = 2
    gt_pose = torch.zeros(batch, 48)
    gt_pose[:, 2] = np.pi / 2  # global rotation of 90 degrees about z, fingers flat
    gt_shape = torch.full((batch, 10), 0.5)
    with torch.no_grad():
        verts_mm, joints_mm = head.mano_layer(gt_pose, gt_shape)
    rot_z = torch.tensor([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    preds = dict(hand_verts3d=verts_mm / 1000 + 0.002, hand_joints3d=joints_mm / 1000 - 0.001,
                 mano_pose_rotmat=torch.eye(3).expand(batch, 16, 3, 3).clone(),
                 mano_shape=torch.zeros(batch, 10),
                 hand_joints2d_boxnorm=torch.full((batch, 21, 2), 0.5))
    losses = head.loss(preds, gt_pose, gt_shape, torch.full((batch, 21, 2), 0.25))
    expected = dict(
        loss_mano_verts=1e4 * 0.002 ** 2,
        loss_mano_joints=1e4 * 0.001 ** 2,
        # only the global rotation differs: ||Rz - I||^2 = 4 over 16 * 9 entries per sample
        loss_mano_pose=10 * 4 / (16 * 9),
        loss_mano_shape=0.1 * 0.25,
        loss_joints2d=100 * 0.25 ** 2)
    assert set(losses) == set(expected)
    for key, value in expected.items():
        assert losses[key].item() == pytest.approx(value, rel=1e-4), key
    assert (rot_z - torch.eye(3)).pow(2).sum() == 4


def test_optional_heatmap_loss_uses_the_logits():
    head = MODELS.build(dict(type='HandMANOHead', in_channels=32, roi_size=16,
                             encoder_stages=3, mano_hidden=[32], mano_cfg=MANO_CFG,
                             loss_heatmap=dict(type='HeatmapKLLoss', sigma=1.0,
                                               loss_weight=2.0)))
    torch.manual_seed(3)
    assert 'loss_heatmap' not in HandMANOHead(
        in_channels=32, roi_size=16, encoder_stages=3, mano_hidden=[32],
        mano_cfg=MANO_CFG).loss(head(torch.randn(2, 32, 16, 16)), torch.zeros(2, 48),
                                torch.zeros(2, 10), torch.full((2, 21, 2), 0.5))
    preds = head(torch.randn(2, 32, 16, 16))
    joints = torch.rand(2, 21, 2)
    losses = head.loss(preds, torch.zeros(2, 48), torch.zeros(2, 10), joints)
    # the logits are the heatmaps' pre-softmax scores ...
    torch.testing.assert_close(preds['hand_heatmap_logits'].flatten(2).softmax(2),
                               preds['hand_heatmaps'].flatten(2))
    # ... and the term is the weighted KL divergence to the Gaussian targets.
    target = MODELS.build(dict(type='HeatmapKLLoss', sigma=1.0, loss_weight=2.0))
    torch.testing.assert_close(losses['loss_heatmap'],
                               target(preds['hand_heatmap_logits'], joints))


def test_gradient_reaches_input_and_regressor(head):
    torch.manual_seed(2)
    head.train()
    x = torch.randn(2, 256, 32, 32, requires_grad=True)
    preds = head(x)
    losses = head.loss(preds, 0.3 * torch.randn(2, 48), torch.randn(2, 10),
                       torch.rand(2, 21, 2))
    head.zero_grad()
    sum(losses.values()).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert head.mano_regressor.pose_reg.weight.grad.abs().sum() > 0
    assert head.heatmap_head.betas.grad.abs().sum() > 0


def test_init_weights_follow_reference(head):
    assert (head.heatmap_head.betas == 1).all()
    assert head.encoder.reg[3].conv2.weight.std().item() == pytest.approx(1e-3, rel=0.05)
    assert head.mano_regressor.mano_base_layer[0].weight.std().item() == pytest.approx(
        1e-2, rel=0.05)
    assert head.mano_regressor.pose_reg.bias.abs().max() == 0
    assert (head.heatmap_head.fc[0].block[1].weight == 1).all()


def test_rejects_pca_mano_and_bad_targets(head):
    with pytest.raises(ValueError, match='use_pca'):
        HandMANOHead(mano_cfg=dict(MANO_CFG, use_pca=True))
    preds = dict(mano_shape=torch.zeros(2, 10))
    with pytest.raises(ValueError, match='mano_pose'):
        head.loss(preds, torch.zeros(2, 45), torch.zeros(2, 10), torch.zeros(2, 21, 2))
