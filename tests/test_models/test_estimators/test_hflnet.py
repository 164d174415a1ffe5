from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.models.estimators import HFLNet
from mmhandobj.registry import MODELS
from mmhandobj.structures.geometry import pixels_to_box_normalised
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

CONFIG = Path(__file__).parents[3] / 'configs' / '_base_' / 'models' / 'hfl_r50.py'
HAND_LOSSES = ('loss_mano_verts', 'loss_mano_joints', 'loss_mano_pose', 'loss_mano_shape',
               'loss_joints2d')
OBJ_LOSSES = ('loss_obj_reg', 'loss_obj_conf')


@pytest.fixture(scope='module')
def model(hfl_model_cfg):
    torch.manual_seed(0)
    net = MODELS.build(hfl_model_cfg())
    net.init_weights()
    return net


def make_samples(flips=(False, True)):
    gen = torch.Generator().manual_seed(0)
    hand = [[4., 6., 40., 44.], [20., 10., 60., 50.]]
    obj = [[20., 24., 60., 62.], [2., 30., 30., 60.]]
    samples = []
    for i, flip in enumerate(flips):
        h, o = torch.tensor([hand[i]]), torch.tensor([obj[i]])
        gt = InstanceData()
        gt.hand_bboxes, gt.obj_bboxes = h, o
        gt.hand_joints2d_crop = h[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            h[:, None, 2:] - h[:, None, :2])
        gt.mano_pose = 0.2 * torch.randn(1, 48, generator=gen)
        gt.mano_shape = torch.randn(1, 10, generator=gen)
        gt.obj_kps2d_crop = o[:, None, :2] + torch.rand(1, 21, 2, generator=gen) * (
            o[:, None, 2:] - o[:, None, :2])
        gt.obj_mask = (torch.rand(1, 32, 32, generator=gen) > 0.5).float()
        gt.obj_kps3d = 0.05 * torch.randn(1, 21, 3, generator=gen)
        sample = HandObjectDataSample(metainfo=dict(
            ori_shape=(480, 640), img_shape=(64, 64), flip=flip,
            crop_affine=np.array([[0.2, 0.01, -30.0], [-0.02, 0.2, -20.0]], np.float32),
            ori_cam_intr=np.array([[600, 0, 320], [0, 610, 240], [0, 0, 1]], np.float32)))
        sample.gt_instances = gt
        samples.append(sample)
    return samples


def test_r50_trainable_parameters_equal_reference(hfl_model_cfg):
    net = MODELS.build(hfl_model_cfg(tiny=False))
    assert sum(p.numel() for p in net.parameters() if p.requires_grad) == 46080659


def test_tensor_mode_shapes(model):
    model.eval()
    images = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        out = model(images, make_samples(), mode='tensor')
    expected = dict(hand_joints2d_boxnorm=(2, 21, 2), hand_joints2d_crop=(2, 21, 2),
                    hand_heatmaps=(2, 21, 32, 32), hand_heatmap_logits=(2, 21, 32, 32),
                    hand_verts3d=(2, 778, 3), hand_joints3d=(2, 21, 3),
                    mano_pose_rotmat=(2, 16, 3, 3), mano_pose=(2, 48), mano_shape=(2, 10),
                    obj_vote_x=(2, 32, 32, 21), obj_vote_y=(2, 32, 32, 21),
                    obj_vote_conf=(2, 32, 32, 21))
    assert {key: tuple(value.shape) for key, value in out.items()} == expected
    # wrist-centred (joint 0 at the origin), 2D in [0, 1] of the hand box
    torch.testing.assert_close(out['hand_joints3d'][:, 0], torch.zeros(2, 3))
    boxnorm = out['hand_joints2d_boxnorm']
    assert boxnorm.min() >= 0 and boxnorm.max() <= 1
    box = torch.tensor([[4., 6., 40., 44.], [20., 10., 60., 50.]])
    torch.testing.assert_close(out['hand_joints2d_crop'],
                               boxnorm * (box[:, None, 2:] - box[:, None, :2]) +
                               box[:, None, :2])


def test_loss_mode_finite_and_gradient_isolation(model):
    model.train()
    images = torch.rand(2, 3, 64, 64)
    losses = model(images, make_samples(), mode='loss')
    assert set(losses) == set(HAND_LOSSES + OBJ_LOSSES)
    assert all(torch.isfinite(v) and v.dim() == 0 for v in losses.values())

    def grad_norm(module):
        return sum(float(p.grad.abs().sum()) for p in module.parameters() if p.grad is not None)

    bb, neck = model.backbone, model.neck
    model.zero_grad()
    sum(losses[k] for k in HAND_LOSSES).backward(retain_graph=True)
    for private in (bb.layer2_obj, bb.layer3_obj, neck.obj_fpn, model.obj_head,
                    model.hand_to_obj_fusion):
        assert grad_norm(private) == 0
    for shared in (bb.conv1, bb.layer1, bb.layer4, bb.layer2_hand, neck.hand_fpn):
        assert grad_norm(shared) > 0
    model.zero_grad()
    sum(losses[k] for k in OBJ_LOSSES).backward()
    for private in (bb.layer2_hand, bb.layer3_hand, neck.hand_fpn, model.hand_head,
                    model.obj_to_hand_fusion):
        assert grad_norm(private) == 0
    for shared in (bb.conv1, bb.layer1, bb.layer4, bb.layer3_obj, neck.obj_fpn):
        assert grad_norm(shared) > 0


def test_loss_targets_are_box_normalised():
    pts = torch.tensor([[[10., 20.], [30., 60.]]])
    box = torch.tensor([[10., 20., 50., 100.]])
    torch.testing.assert_close(pixels_to_box_normalised(pts, box),
                               torch.tensor([[[0., 0.], [0.5, 0.5]]]))


def test_non_finite_loss_names_the_key(model):
    model.train()
    samples = make_samples()
    samples[1].gt_instances.mano_shape = torch.full((1, 10), float('nan'))
    with pytest.raises(FloatingPointError, match='loss_mano_shape'):
        model(torch.rand(2, 3, 64, 64), samples, mode='loss')


def test_degenerate_and_missing_inputs(model):
    samples = make_samples()
    samples[0].gt_instances.obj_bboxes = torch.tensor([[30., 0., 10., 10.]])
    with pytest.raises(ValueError, match='obj_bboxes'):
        model(torch.rand(2, 3, 64, 64), samples, mode='loss')
    samples = make_samples()
    del samples[1].gt_instances.obj_mask
    with pytest.raises(KeyError, match=r'data_samples\[1\].*obj_mask'):
        model(torch.rand(2, 3, 64, 64), samples, mode='loss')
    with pytest.raises(ValueError, match='mode'):
        model(torch.rand(2, 3, 64, 64), make_samples(), mode='bogus')


def _rotation(rx, ry, rz):
    cx, cy, cz, sx, sy, sz = np.cos([rx, ry, rz]).tolist() + np.sin([rx, ry, rz]).tolist()
    return (np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]]) @
            np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]]) @
            np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]]))


def test_predict_recovers_a_known_object_pose(model):
    """Make the 3D keypoints the back-projections (known pose) of the votes PnP will use."""
    model.eval()
    model.test_cfg['vote_topk'] = 1
    # confident votes (> 0.5 everywhere) spread over the box (well-conditioned PnP)
    spread = torch.cat([torch.full((21,), 3.0), 8 * torch.rand(42) - 4])
    with torch.no_grad():
        model.obj_head.out_conv.bias[:63] += spread
    images = torch.rand(2, 3, 64, 64)
    samples = make_samples()
    rng = np.random.default_rng(0)
    poses = [(_rotation(0.3, -0.5, 1.0), np.array([0.05, -0.02, 0.5])),
             (_rotation(-1.2, 0.4, 2.5), np.array([-0.1, 0.04, 0.7]))]
    try:
        with torch.no_grad():
            raw = model(images, samples, mode='tensor')
            expected_kps2d, expected_joints2d = [], []
            for i, sample in enumerate(samples):
                meta, gt = sample.metainfo, sample.gt_instances
                box = gt.obj_bboxes[0].numpy().astype(np.float64)
                vx, vy, conf = (raw[k][i].reshape(-1, 21).numpy().astype(np.float64)
                                for k in ('obj_vote_x', 'obj_vote_y', 'obj_vote_conf'))
                best = conf.argmax(axis=0)  # most confident cell of each keypoint
                crop = np.stack([vx[best, range(21)] * (box[2] - box[0]) + box[0],
                                 vy[best, range(21)] * (box[3] - box[1]) + box[1]], 1)
                inv = np.linalg.inv(np.vstack([meta['crop_affine'], [0, 0, 1]]))

                def to_image(points, inv=inv, flip=meta['flip']):
                    img = points @ inv[:2, :2].T + inv[:2, 2]
                    if flip:
                        img[:, 0] = 640 - 1 - img[:, 0]
                    return img
                img = to_image(crop)
                expected_kps2d.append((crop, img))
                expected_joints2d.append(
                    to_image(raw['hand_joints2d_crop'][i].numpy().astype(np.float64)))
                depth = rng.uniform(0.4, 0.8, size=(21, 1))
                cam = depth * (np.c_[img, np.ones(21)] @ np.linalg.inv(meta['ori_cam_intr']).T)
                rot, trans = poses[i]
                gt.obj_kps3d = torch.from_numpy((cam - trans) @ rot).float()[None]
            predicted = model(images, samples, mode='predict')
    finally:
        model.test_cfg['vote_topk'] = 10
        with torch.no_grad():
            model.obj_head.out_conv.bias[:63] -= spread
    shapes = dict(hand_joints3d=(1, 21, 3), hand_verts3d=(1, 778, 3),
                  hand_joints2d_crop=(1, 21, 2), hand_joints2d_img=(1, 21, 2),
                  mano_pose=(1, 48), mano_shape=(1, 10), obj_rot=(1, 3, 3), obj_trans=(1, 3),
                  obj_kps2d_crop=(1, 21, 2), obj_kps2d_img=(1, 21, 2))
    for i, sample in enumerate(predicted):
        pred = sample.pred_instances
        for key, shape in shapes.items():
            assert isinstance(pred.get(key), np.ndarray) and pred.get(key).shape == shape, key
        # one vocabulary: a quantity in both outputs has the same name in both
        for key in ('hand_joints3d', 'hand_verts3d', 'hand_joints2d_crop', 'mano_pose',
                    'mano_shape'):
            np.testing.assert_allclose(pred.get(key)[0], raw[key][i].numpy(), rtol=1e-5,
                                       atol=1e-5, err_msg=key)
        np.testing.assert_allclose(pred.hand_joints2d_img[0], expected_joints2d[i], rtol=1e-5,
                                   atol=1e-3)
        np.testing.assert_allclose(pred.obj_kps2d_crop[0], expected_kps2d[i][0], rtol=1e-4,
                                   atol=1e-3)
        np.testing.assert_allclose(pred.obj_kps2d_img[0], expected_kps2d[i][1], rtol=1e-4,
                                   atol=1e-2)
        np.testing.assert_allclose(pred.obj_rot[0], poses[i][0], atol=1e-4)
        np.testing.assert_allclose(pred.obj_trans[0], poses[i][1], atol=1e-4)


def test_is_registered():
    assert MODELS.get('HFLNet') is HFLNet


def test_predict_without_object_identity_gives_no_pose(model):
    model.eval()
    samples = make_samples()
    for sample in samples:
        del sample.gt_instances.obj_kps3d
    with torch.no_grad():
        predicted = model(torch.rand(2, 3, 64, 64), samples, mode='predict')
    for sample in predicted:
        pred = sample.pred_instances
        assert 'obj_rot' not in pred and 'obj_trans' not in pred
        assert pred.obj_kps2d_img.shape == (1, 21, 2) and pred.hand_joints2d_img.shape == (1, 21, 2)


def test_non_finite_loss_names_epoch_iteration_and_images(model):
    from mmengine.logging import MessageHub
    hub = MessageHub.get_instance('test_non_finite_loss')  # the current hub, as in a runner
    hub.update_info('epoch', 2)
    hub.update_info('iter', 17)
    model.train()
    samples = make_samples()
    for i, sample in enumerate(samples):
        sample.set_metainfo(dict(img_path=f'/data/seq/{i:04d}.png'))
    samples[0].gt_instances.mano_shape = torch.full((1, 10), float('nan'))
    with pytest.raises(FloatingPointError, match=r"loss_mano_shape.*at epoch 3, iteration 18; "
                       r"batch images: \['/data/seq/0000.png', '/data/seq/0001.png'\]"):
        model(torch.rand(2, 3, 64, 64), samples, mode='loss')
