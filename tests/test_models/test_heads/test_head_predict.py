"""The heads' ``predict`` on their own (what a second model reuses): decoding and frames."""
import numpy as np
import torch
from mmengine.structures import InstanceData

from mmhandobj.registry import MODELS
from mmhandobj.structures import HandObjectDataSample

AFFINE = np.array([[0.25, 0.0, -40.0], [0.0, 0.25, -30.0]], np.float32)
WIDTH = 640


def _samples(flips, kps3d=None):
    samples = []
    for i, flip in enumerate(flips):
        sample = HandObjectDataSample(metainfo=dict(
            ori_shape=(480, WIDTH), flip=flip, crop_affine=AFFINE,
            ori_cam_intr=np.array([[600, 0, 320], [0, 600, 240], [0, 0, 1]], np.float32)))
        gt = InstanceData()
        if kps3d is not None:
            gt.obj_kps3d = torch.from_numpy(kps3d[i])[None]
        sample.gt_instances = gt
        samples.append(sample)
    return samples


def _to_image(crop, flip):
    """Closed form of the inverse of AFFINE (scale 1/4, shift), then the mirror."""
    img = np.stack([(crop[:, 0] + 40.0) * 4.0, (crop[:, 1] + 30.0) * 4.0], 1)
    if flip:
        img[:, 0] = WIDTH - 1 - img[:, 0]
    return img


def test_hand_head_predict_decodes_both_frames():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='HandMANOHead', in_channels=16, roi_size=16, encoder_stages=3,
                             mano_hidden=(32, 16), mano_cfg=dict(standin_seed=0)))
    head.eval()
    x = torch.randn(2, 16, 16, 16)
    boxes = torch.tensor([[4.0, 6.0, 40.0, 44.0], [20.0, 10.0, 60.0, 50.0]])
    with torch.no_grad():
        raw = head(x)
        raw_px = head(x, boxes)
        preds = head.predict(x, boxes, _samples([False, True]))
    assert 'hand_joints2d_crop' not in raw and set(raw_px) == {*raw, 'hand_joints2d_crop'}
    for i, (pred, flip) in enumerate(zip(preds, [False, True])):
        box = boxes[i].numpy().astype(np.float64)
        norm = raw['hand_joints2d_boxnorm'][i].numpy().astype(np.float64)
        crop = box[:2] + norm * (box[2:] - box[:2])
        np.testing.assert_allclose(raw_px['hand_joints2d_crop'][i].numpy(), crop, rtol=1e-5,
                                   atol=1e-4)
        np.testing.assert_allclose(pred.hand_joints2d_crop[0], crop, rtol=1e-5, atol=1e-4)
        np.testing.assert_allclose(pred.hand_joints2d_img[0], _to_image(crop, flip), atol=1e-3)
        np.testing.assert_allclose(pred.hand_joints3d[0], raw['hand_joints3d'][i].numpy())
        np.testing.assert_allclose(pred.hand_verts3d[0], raw['hand_verts3d'][i].numpy())
        np.testing.assert_allclose(pred.mano_pose[0], raw['mano_pose'][i].numpy())
        np.testing.assert_allclose(pred.mano_shape[0], raw['mano_shape'][i].numpy())
        assert pred.hand_verts3d.shape == (1, 778, 3) and pred.mano_pose.shape == (1, 48)
        assert pred.mano_shape.shape == (1, 10)


def test_object_head_predict_decodes_and_solves_only_when_known():
    torch.manual_seed(0)
    head = MODELS.build(dict(type='ObjectKeypointHead', in_channels=16))
    head.eval()
    x = torch.randn(2, 16, 8, 8)
    boxes = torch.tensor([[20.0, 24.0, 60.0, 62.0], [2.0, 30.0, 30.0, 60.0]])
    with torch.no_grad():
        raw = head(x)
        unknown = head.predict(x, boxes, _samples([False, True]))
        known = head.predict(x, boxes, _samples(
            [False, True], kps3d=np.random.default_rng(0).normal(
                scale=0.05, size=(2, 21, 3)).astype(np.float32)),
            test_cfg=dict(vote_conf_thr=0.0))
    for i, flip in enumerate([False, True]):
        box = boxes[i].numpy().astype(np.float64)
        vx, vy, conf = (raw[k][i].reshape(-1, 21).numpy().astype(np.float64)
                        for k in ('obj_vote_x', 'obj_vote_y', 'obj_vote_conf'))
        best = conf.argmax(axis=0)
        crop = np.stack([vx[best, range(21)] * (box[2] - box[0]) + box[0],
                         vy[best, range(21)] * (box[3] - box[1]) + box[1]], 1)
        for pred in (unknown[i], known[i]):
            np.testing.assert_allclose(pred.obj_kps2d_crop[0], crop, rtol=1e-5, atol=1e-4)
            np.testing.assert_allclose(pred.obj_kps2d_img[0], _to_image(crop, flip), atol=1e-3)
        assert 'obj_rot' not in unknown[i] and 'obj_trans' not in unknown[i]
        rot = known[i].obj_rot[0].astype(np.float64)
        np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-5)
        assert known[i].obj_trans.shape == (1, 3)
