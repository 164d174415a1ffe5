import glob
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
import torch

from mmhandobj.apis import as_intrinsics, inference_handobj, init_model
from mmhandobj.apis.inference import default_obj_model_root
from mmhandobj.datasets.converters.ho3d import read_ho3d_meta
from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.datasets.transforms import read_image
from mmhandobj.models.estimators import HFLNet
from mmhandobj.structures import HandObjectDataSample

OPENGL_TO_OPENCV = np.array([1.0, -1.0, -1.0])
PRED_SHAPES = dict(hand_joints3d=(1, 21, 3), hand_verts3d=(1, 778, 3),
                   hand_joints2d_crop=(1, 21, 2), hand_joints2d_img=(1, 21, 2),
                   mano_pose=(1, 48), mano_shape=(1, 10), obj_rot=(1, 3, 3), obj_trans=(1, 3),
                   obj_kps2d_crop=(1, 21, 2), obj_kps2d_img=(1, 21, 2), hand_root=(1, 3))


def project(points, cam):
    return points[:, :2] / points[:, 2:] * cam[[0, 1], [0, 1]] + cam[:2, 2]


@pytest.fixture(scope='module')
def frames(synthetic_world):
    """(image path, hand box, object box, K, object name, wrist) of annotated train frames."""
    found = []
    for meta_path in sorted(glob.glob(osp.join(synthetic_world, 'train', '*', 'meta', '*.pkl'))):
        meta = read_ho3d_meta(meta_path)
        if meta.get('handJoints3D') is None:
            continue
        cam = np.asarray(meta['camMat'], np.float64)
        joints = np.asarray(meta['handJoints3D'], np.float64) * OPENGL_TO_OPENCV
        corners = np.asarray(meta['objCorners3D'], np.float64) * OPENGL_TO_OPENCV
        hand_uv, obj_uv = project(joints, cam), project(corners, cam)
        img = meta_path.replace('/meta/', '/rgb/').replace('.pkl', '.png')
        found.append((img, np.concatenate([hand_uv.min(0), hand_uv.max(0)]),
                      np.concatenate([obj_uv.min(0), obj_uv.max(0)]), cam, meta['objName'],
                      joints[0]))
    assert len(found) >= 2
    return found


@pytest.fixture(scope='module')
def model(quickstart_config, tiny_options):
    torch.manual_seed(0)
    return init_model(quickstart_config, cfg_options=tiny_options)


def expected_crop(hand_box, obj_box, size, out=256):
    """Independent test-time crop (docs/reference_parity.md R23): affine and the two RoI boxes.

    Boxes are float32 as in the reference, which matters where a centre is an integer.
    """
    def expand(box, factor):
        centre = np.trunc((box[:2] + box[2:]) / 2)
        half = (box[2:] - box[:2]) * factor / 2
        return np.concatenate([centre - half, centre + half]).astype(np.float32)

    boxes = np.stack([expand(hand_box.astype(np.float32), 1.5),
                      expand(obj_box.astype(np.float32), 1.5)])
    lo = np.maximum(boxes[:, :2].min(0), 0)
    hi = np.minimum(boxes[:, 2:].max(0), np.asarray(size[::-1], np.float32))
    centre, side = np.trunc((lo + hi) / 2), (hi - lo).max()
    affine = np.array([[out / side, 0, out / 2 - out / side * centre[0]],
                       [0, out / side, out / 2 - out / side * centre[1]]])

    def to_crop(box):
        return np.concatenate([box[:2], box[2:]]) * affine[0, 0] + np.tile(affine[:, 2], 2)

    return affine, expand(to_crop(hand_box), 1.1), expand(to_crop(obj_box), 1.0)


def check_prediction(sample):
    assert isinstance(sample, HandObjectDataSample)
    pred = sample.pred_instances
    for key, shape in PRED_SHAPES.items():
        assert np.asarray(pred.get(key)).shape == shape, key
        # A random model's joints may admit no root in front of the camera (NaN).
        assert key == 'hand_root' or np.isfinite(np.asarray(pred.get(key))).all(), key
    rot = np.asarray(pred.obj_rot[0], np.float64)
    np.testing.assert_allclose(rot @ rot.T, np.eye(3), atol=1e-5)
    assert np.linalg.det(rot) == pytest.approx(1.0, abs=1e-5)
    # Root-relative output: the wrist (joint 0) is the origin.
    np.testing.assert_allclose(pred.hand_joints3d[0, 0], 0.0, atol=1e-6)


def test_init_model_loads_checkpoint(quickstart_config, tiny_options, model, tmp_path):
    assert isinstance(model, HFLNet) and not model.training
    assert model.cfg.model.backbone.depth == 18 and model.cfg.model.neck.out_channels == 32
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    torch.manual_seed(1)
    loaded = init_model(quickstart_config, str(ckpt),
                        cfg_options={**tiny_options, 'model.test_cfg.vote_topk': 5})
    assert loaded.test_cfg['vote_topk'] == 5
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.equal(a, b), name


def test_single_image_crop_and_contract(model, frames):
    img, hand_box, obj_box, cam, obj_name, _ = frames[0]
    sample = inference_handobj(model, img, hand_box, obj_box, cam, obj_name=obj_name)
    check_prediction(sample)
    meta = sample.metainfo
    height, width = cv2.imread(img).shape[:2]
    assert meta['img_path'] == img and meta['ori_shape'] == (height, width)
    assert meta['flip'] is False and meta['obj_name'] == obj_name
    affine, hand_roi, obj_roi = expected_crop(hand_box, obj_box, (height, width),
                                                 out=model.cfg.input_size)
    np.testing.assert_allclose(meta['crop_affine'], affine, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(sample.gt_instances.hand_bboxes[0].numpy(), hand_roi, atol=1e-3)
    np.testing.assert_allclose(sample.gt_instances.obj_bboxes[0].numpy(), obj_roi, atol=1e-3)
    np.testing.assert_allclose(meta['ori_cam_intr'], cam, rtol=1e-6)
    assert 'root_joint' not in sample.gt_instances


def test_batch_left_hand_and_root(model, frames):
    (img0, hand0, obj0, cam, name0, root0), (img1, hand1, obj1, _, name1, root1) = frames[:2]
    fxfycxcy = [cam[0, 0], cam[1, 1], cam[0, 2], cam[1, 2]]
    samples = inference_handobj(
        model, [img0, cv2.imread(img1)], np.stack([hand0, hand1]), np.stack([obj0, obj1]),
        fxfycxcy, obj_name=[name0, name1], hand_side=['right', 'left'],
        root_joint=np.stack([root0, root1]))
    assert len(samples) == 2
    for sample in samples:
        check_prediction(sample)
    assert samples[1].metainfo['img_path'] == '' and samples[1].metainfo['flip'] is True
    np.testing.assert_allclose(samples[1].gt_instances.root_joint[0].numpy(), root1, atol=1e-6)
    # Left hand: the crop is taken in the mirrored image, u' = W - 1 - u.
    width = cv2.imread(img1).shape[1]
    # (boxes are float32 before the mirror, as in the API and the reference's data)
    h32, o32 = hand1.astype(np.float32), obj1.astype(np.float32)
    mirror = np.array([width - 1 - h32[2], h32[1], width - 1 - h32[0], h32[3]], np.float32)
    mirror_obj = np.array([width - 1 - o32[2], o32[1], width - 1 - o32[0], o32[3]], np.float32)
    affine, hand_roi, _ = expected_crop(mirror, mirror_obj, (cv2.imread(img1).shape[:2]),
                                      out=model.cfg.input_size)
    np.testing.assert_allclose(samples[1].metainfo['crop_affine'], affine, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(samples[1].gt_instances.hand_bboxes[0].numpy(), hand_roi,
                               atol=1e-3)


def test_a_given_object_model_bank_is_used_with_the_models_it_holds(model, frames, tmp_path):
    img, hand_box, obj_box, cam, obj_name, _ = frames[0]
    by_root = inference_handobj(model, img, hand_box, obj_box, cam, obj_name=obj_name)
    root = default_obj_model_root(model.cfg)
    copy = tmp_path / 'models'
    shutil.copytree(osp.join(root, obj_name), copy / obj_name)
    bank = ObjectModelBank(str(copy))
    bank.keypoints3d(obj_name)
    shutil.rmtree(copy)  # only the bank's loaded models are left
    by_bank = inference_handobj(model, img, hand_box, obj_box, cam, obj_name=obj_name,
                                obj_model_root=bank)
    for key in ('obj_rot', 'obj_trans'):
        np.testing.assert_array_equal(by_bank.pred_instances[key], by_root.pred_instances[key])
    with pytest.raises(KeyError, match='no model at'):  # a root is read again
        inference_handobj(model, img, hand_box, obj_box, cam, obj_name=obj_name,
                          obj_model_root=str(copy))


def test_without_object_name(model, frames):
    img, hand_box, obj_box, cam, _, _ = frames[0]
    sample = inference_handobj(model, img, hand_box, obj_box, cam)
    assert 'obj_rot' not in sample.pred_instances and 'obj_trans' not in sample.pred_instances
    assert sample.pred_instances.obj_kps2d_img.shape == (1, 21, 2)
    assert 'obj_kps3d' not in sample.gt_instances


def test_bad_inputs(model, frames, tmp_path):
    img, hand_box, obj_box, cam, obj_name, _ = frames[0]
    with pytest.raises(ValueError, match='hand_bboxes'):
        inference_handobj(model, [img, img], np.zeros((3, 4)), obj_box, cam)
    with pytest.raises(ValueError, match='obj_bboxes'):
        inference_handobj(model, img, hand_box, obj_box[[2, 3, 0, 1]], cam)
    with pytest.raises(KeyError, match='no_such_object'):
        inference_handobj(model, img, hand_box, obj_box, cam, obj_name='no_such_object')
    with pytest.raises(ValueError, match='focal'):
        inference_handobj(model, img, hand_box, obj_box, [0, 500, 320, 240])
    with pytest.raises(ValueError, match='hand_side'):
        inference_handobj(model, img, hand_box, obj_box, cam, hand_side='both')
    with pytest.raises(OSError, match='not found'):
        inference_handobj(model, str(tmp_path / 'missing.png'), hand_box, obj_box, cam)


def test_as_intrinsics_forms():
    mat = np.array([[500.0, 0, 320], [0, 510, 240], [0, 0, 1]])
    np.testing.assert_array_equal(as_intrinsics([500, 510, 320, 240], 2), [mat, mat])
    np.testing.assert_array_equal(as_intrinsics(mat, 1), [mat])
    np.testing.assert_array_equal(as_intrinsics([[500, 510, 320, 240]] * 3, 3), [mat] * 3)
    with pytest.raises(ValueError, match='cam_intr'):
        as_intrinsics(np.eye(3)[None].repeat(2, 0), 3)


def test_box_entirely_outside_the_image_is_refused(model, frames):
    img, hand_box, obj_box, cam, _, _ = frames[0]
    height, width = read_image(img).shape[:2]
    beyond = np.array([width + 10, 20, width + 90, 100], np.float64)
    with pytest.raises(ValueError, match=r'hand_bboxes\[0\].*entirely outside the '
                       rf'{width}x{height} image'):
        inference_handobj(model, img, beyond, obj_box, cam)
    with pytest.raises(ValueError, match=r'obj_bboxes\[0\].*entirely outside'):
        inference_handobj(model, img, hand_box, np.array([-90, -80, -10, -5.0]), cam)
    # a box that only overlaps the image is still accepted
    partly = np.array([-20, -20, hand_box[2], hand_box[3]], np.float64)
    assert inference_handobj(model, img, partly, obj_box, cam).pred_instances is not None


def test_init_model_optimize_folds_batchnorms_and_keeps_predictions(
        quickstart_config, tiny_options, model, frames, tmp_path):
    ckpt = tmp_path / 'tiny.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    fast = init_model(quickstart_config, str(ckpt), cfg_options=tiny_options, optimize=True)
    def batchnorms(net):
        return sum(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())

    assert batchnorms(fast) < batchnorms(model)
    assert fast.backbone.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    img, hand_box, obj_box, cam, obj_name, _ = frames[0]
    ref = inference_handobj(model, img, hand_box, obj_box, cam, obj_name=obj_name)
    out = inference_handobj(fast, img, hand_box, obj_box, cam, obj_name=obj_name)
    for key in ('hand_joints3d', 'hand_verts3d', 'hand_joints2d_img', 'obj_kps2d_img'):
        a, b = out.pred_instances.get(key), ref.pred_instances.get(key)
        torch.testing.assert_close(torch.as_tensor(a), torch.as_tensor(b), rtol=1e-4,
                                   atol=1e-4 * float(torch.as_tensor(b).abs().max()))


def test_hand_root_places_the_predicted_hand_on_its_2d_joints(model, frames):
    """``pred_instances.hand_root`` (original camera) against scipy's depth-weighted
    reprojection fit of the un-mirrored joints, for right and (mirrored) left hands; NaN
    exactly where that fit puts the hand behind the camera (a random model's joints)."""
    from scipy.optimize import least_squares
    solved = 0
    for img, hand_box, obj_box, cam, _, _ in frames:
        for side in ('right', 'left'):
            sample = inference_handobj(model, img, hand_box, obj_box, cam, hand_side=side)
            pred = sample.pred_instances
            joints = np.asarray(pred.hand_joints3d[0], np.float64)
            if side == 'left':
                joints = joints * [-1.0, 1.0, 1.0]
            pixels = np.asarray(pred.hand_joints2d_img[0], np.float64)

            def residual(trans, joints=joints, cam=cam, pixels=pixels):
                cam_pts = (joints + trans) @ cam.T
                return ((cam_pts[:, :2] / cam_pts[:, 2:] - pixels) * cam_pts[:, 2:]).ravel()
            expected = least_squares(residual, [0.0, 0.0, 0.5], xtol=1e-15, ftol=1e-15,
                                     gtol=1e-15).x
            if (joints + expected)[:, 2].min() > 0:
                np.testing.assert_allclose(pred.hand_root[0], expected, rtol=1e-4, atol=1e-6)
                solved += 1
            else:
                assert np.isnan(pred.hand_root).all()
    assert solved > 0
