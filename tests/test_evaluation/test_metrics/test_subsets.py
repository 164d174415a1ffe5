"""Subset keys of the hand and object metrics on frames with hand-picked subsets."""
import math

import numpy as np
import pytest
import torch
from mmengine.structures import InstanceData

from mmhandobj.evaluation.metrics import DexYCBHandMetric, HO3DMetric, ObjectPoseMetric
from mmhandobj.evaluation.metrics.subsets import subset_masks
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

NAN = math.nan
#: (object, occlusion, hand-object distance in m) of six frames, and the frames each subset
#: must hold (bin edges: 0.1 and 0.4 open the next bin, 1.0 closes the last; 0.01 m is still
#: a hand-object frame; NaN is in no subset of its kind).
TAGS = [('006_mustard_bottle', 0.05, 0.002), ('006_mustard_bottle', 0.1, 0.01),
        ('024_bowl', 0.39, 0.05), ('024_bowl', 0.4, NAN), ('024_bowl', 1.0, 0.0101),
        ('006_mustard_bottle', NAN, 0.0)]
SUBSETS = {'hand_object': [0, 1, 5], 'hand_only': [2, 4], 'obj_006_mustard_bottle': [0, 1, 5],
           'obj_024_bowl': [2, 3, 4], 'occl_0-10': [0], 'occl_10-40': [1, 2],
           'occl_40-100': [3, 4]}
#: Per-frame translation of the predicted hand and object (metres): distinct errors per frame.
OFFSETS = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032]


def _meta(i):
    name, occlusion, distance = TAGS[i]
    return dict(sample_idx=i, flip=False, obj_name=name, hand_occlusion=occlusion,
                hand_obj_distance=distance)


def _hand_samples(rng):
    """Frames whose prediction is the GT, bent at one finger joint, then translated."""
    samples, gts, preds = [], [], []
    for i in range(len(TAGS)):
        gt = rng.normal(scale=0.03, size=(21, 3)) + [0.0, 0.0, 0.6]
        pred = gt.copy()
        pred[8] += rng.normal(scale=0.01, size=3)  # PA-MPJPE > 0
        pred += OFFSETS[i] / np.sqrt(3)
        gts.append(gt)
        preds.append(pred)
        sample = HandObjectDataSample(metainfo=_meta(i))
        sample.gt_instances = InstanceData(
            hand_joints3d_cam=torch.from_numpy(gt[None]).double(),
            hand_verts3d_cam=torch.from_numpy(np.repeat(gt, 38, 0)[:778][None]).double(),
            root_joint=torch.from_numpy(gt[:1]).double())
        sample.pred_instances = InstanceData(
            hand_joints3d=(pred - gt[0])[None],
            hand_verts3d=np.repeat(pred - gt[0], 38, 0)[:778][None])
        samples.append(sample.to_dict())
    return samples, gts, preds


def _mpjpe(pred, gt):
    return np.mean([np.linalg.norm(p - g) for p, g in zip(pred, gt)])


def _expected(per_frame, prefix, key):
    out = {}
    for name, frames in SUBSETS.items():
        out[f'{prefix}/subset/{name}/{key}'] = np.mean([per_frame[i] for i in frames])
        out[f'{prefix}/subset/{name}/frames'] = len(frames)
    return out


def _evaluate(metric, samples):
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_subset_masks_hand_picked():
    tags = [dict(obj_name=n, occlusion=o, distance=d) for n, o, d in TAGS]
    masks = subset_masks(tags)
    assert list(masks) == list(SUBSETS)
    for name, frames in SUBSETS.items():
        assert np.flatnonzero(masks[name]).tolist() == frames, name
    assert 'obj_024_bowl' not in subset_masks(tags, by_object=False)


def test_ho3d_subsets(ref, rng):
    samples, gts, preds = _hand_samples(rng)
    scores = _evaluate(HO3DMetric(version=None), samples)
    unaligned = [_mpjpe(p, g) * 100 for p, g in zip(preds, gts)]
    aligned = [_mpjpe(ref.ref_align_w_scale(g, p), g) * 100 for p, g in zip(preds, gts)]
    expected = _expected(unaligned, 'ho3d', 'xyz_mean3d')
    expected.update(_expected(aligned, 'ho3d', 'xyz_procrustes_al_mean3d'))
    subset_keys = {k: v for k, v in scores.items() if '/subset/' in k}
    assert subset_keys.keys() == expected.keys()
    for key, value in expected.items():
        assert subset_keys[key] == pytest.approx(value, rel=1e-9), key
    # the official keys are the frame-weighted union of the per-class subsets
    for key in ('xyz_mean3d', 'xyz_procrustes_al_mean3d'):
        union = sum(scores[f'ho3d/subset/{name}/{key}'] * scores[f'ho3d/subset/{name}/frames']
                    for name in ('obj_006_mustard_bottle', 'obj_024_bowl')) / len(TAGS)
        assert union == pytest.approx(scores[f'ho3d/{key}'], rel=1e-9)
    # off: exactly the official keys, with the same values
    off = _evaluate(HO3DMetric(version=None, subsets=False), _hand_samples(
        np.random.default_rng(0))[0])
    on = _evaluate(HO3DMetric(version=None), _hand_samples(np.random.default_rng(0))[0])
    assert off == {k: v for k, v in on.items() if '/subset/' not in k}


def test_dexycb_subsets_leave_the_toolkit_numbers(ref, rng, tmp_path):
    samples, gts, preds = _hand_samples(rng)
    no_hand = HandObjectDataSample(metainfo=dict(sample_idx=99, flip=False,
                                                 obj_name='024_bowl', hand_occlusion=NAN,
                                                 hand_obj_distance=NAN))
    no_hand.gt_instances = InstanceData()
    scores = _evaluate(DexYCBHandMetric(toolkit_result_file=str(tmp_path / 'a.txt')),
                       samples + [no_hand.to_dict()])
    mpjpe = [_mpjpe(p, g) * 1000 for p, g in zip(preds, gts)]
    pa = [_mpjpe(ref.ref_umeyama(p, g), g) * 1000 for p, g in zip(preds, gts)]
    expected = _expected(mpjpe, 'dexycb', 'MPJPE_mm')
    expected.update(_expected(pa, 'dexycb', 'PA-MPJPE_mm'))
    assert {k for k in scores if '/subset/' in k} == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, rel=1e-9), key
    off = _evaluate(DexYCBHandMetric(toolkit_result_file=str(tmp_path / 'b.txt'), subsets=False),
                    _hand_samples(np.random.default_rng(0))[0])
    on = _evaluate(DexYCBHandMetric(toolkit_result_file=str(tmp_path / 'c.txt')),
                   _hand_samples(np.random.default_rng(0))[0])
    assert off == {k: v for k, v in on.items() if '/subset/' not in k}
    assert (tmp_path / 'b.txt').read_text() == (tmp_path / 'c.txt').read_text()


def test_object_adds_subsets(tmp_path, rng):
    names = sorted({name for name, _, _ in TAGS})
    points = {}
    for name in names:
        (tmp_path / name).mkdir()
        points[name] = rng.uniform(-0.05, 0.05, size=(30, 3))
        np.savetxt(tmp_path / name / 'points.xyz', points[name])
    samples, adds = [], []
    for i in range(len(TAGS)):
        rot = np.eye(3)
        trans = np.array([0.0, 0.0, 0.6])
        pred_trans = trans + [OFFSETS[i], 0.0, 0.0]
        sample = HandObjectDataSample(metainfo=dict(
            _meta(i), ori_cam_intr=np.diag([600.0, 600.0, 1.0]), cam_intr=np.eye(3)))
        sample.gt_instances = InstanceData(obj_pose=torch.from_numpy(
            np.concatenate([rot, trans[:, None]], axis=1)[None]).double())
        sample.pred_instances = InstanceData(obj_rot=rot[None], obj_trans=pred_trans[None])
        samples.append(sample.to_dict())
        model = points[TAGS[i][0]]
        # ADD-S: each predicted point to its closest GT point
        adds.append(np.mean([min(np.linalg.norm(p + pred_trans - (g + trans)) for g in model)
                             for p in model]) * 1000)
    scores = _evaluate(ObjectPoseMetric(obj_model_root=str(tmp_path), symmetric_objects=[]),
                       samples)
    expected = {}
    for name, frames in SUBSETS.items():
        if name.startswith('obj_'):  # the per-class keys exist already
            continue
        values = [adds[i] for i in frames]
        expected.update({f'obj/subset/{name}/ADD-S_mm': np.mean(values),
                         f'obj/subset/{name}/ADD-S_median_mm': np.median(values),
                         f'obj/subset/{name}/frames': len(frames)})
    assert {k for k in scores if '/subset/' in k} == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, rel=1e-9), key
