import logging
import statistics

import numpy as np
import pytest
import torch
from mmengine.logging import MMLogger
from mmengine.structures import InstanceData
from scipy.spatial.transform import Rotation

from mmhandobj.evaluation.metrics import ObjectPoseMetric
from mmhandobj.structures.hand_object_data_sample import HandObjectDataSample

K_ORI = np.array([[600.0, 0, 320], [0, 600, 240], [0, 0, 1]], dtype=np.float32)
K_CROP = np.array([[900.0, 0, 128], [0, 900, 128], [0, 0, 1]], dtype=np.float32)


@pytest.fixture
def model_root(tmp_path, rng):
    for name in ('024_bowl', '006_mustard_bottle'):
        (tmp_path / name).mkdir()
        np.savetxt(tmp_path / name / 'points.xyz', rng.uniform(-0.05, 0.05, size=(60, 3)))
    return tmp_path


def _samples(rng, num=6):
    samples = []
    for i in range(num):
        rot = Rotation.random(random_state=i).as_matrix()
        trans = np.array([0.0, 0.0, 0.6]) + rng.normal(scale=0.02, size=3)
        error = [0.0, 0.004, 0.03][i % 3]  # translation errors in metres
        pred_rot = rot @ Rotation.from_rotvec([0.0, 0.05 * (i % 3), 0.0]).as_matrix()
        sample = HandObjectDataSample(metainfo=dict(
            sample_idx=i, obj_name='024_bowl' if i < 3 else '006_mustard_bottle',
            flip=i % 2 == 1, ori_cam_intr=K_ORI, cam_intr=K_CROP))
        sample.gt_instances = InstanceData(obj_pose=torch.from_numpy(
            np.concatenate([rot, trans[:, None]], axis=1)[None]).float())
        sample.pred_instances = InstanceData(obj_rot=pred_rot[None],
                                             obj_trans=(trans + error)[None])
        samples.append(sample.to_dict())
    return samples


def _slow_scores(samples, root, symmetric, intr_key, mirror):
    per_class, adds_all, oce_all, rep_all, adds_class = {}, [], [], [], {}
    for s in samples:
        points = np.loadtxt(root / s['obj_name'] / 'points.xyz')
        pose = s['gt_instances']['obj_pose'][0].double().numpy()
        gt = [pose[:, :3] @ p + pose[:, 3] for p in points]
        pr = [s['pred_instances']['obj_rot'][0] @ p + s['pred_instances']['obj_trans'][0]
              for p in points]
        adds = np.mean([min(np.linalg.norm(p - g) for g in gt) for p in pr])
        add = adds if s['obj_name'] in symmetric else np.mean(
            [np.linalg.norm(p - g) for p, g in zip(pr, gt)])
        diameter = np.linalg.norm(points.max(0) - points.min(0))
        sign = np.array([-1.0, 1.0, 1.0]) if mirror and s['flip'] else np.ones(3)
        k = s[intr_key].astype(np.float64)

        def proj(x, k=k, sign=sign):
            h = k @ (x * sign)
            return h[:2] / (h[2] + 1e-5)
        rep = np.mean([np.linalg.norm(proj(p) - proj(g)) for p, g in zip(pr, gt)])
        per_class.setdefault(s['obj_name'], []).append((add <= 0.1 * diameter, rep <= 5.0))
        adds_all.append(adds)
        adds_class.setdefault(s['obj_name'], []).append(adds)
        rep_all.append(rep)
        centre = points.mean(0)
        oce_all.append(np.linalg.norm(
            (pose[:, :3] @ centre + pose[:, 3])
            - (s['pred_instances']['obj_rot'][0] @ centre + s['pred_instances']['obj_trans'][0])))
    out = {}
    for name, flags in per_class.items():
        out[f'obj/ADD-0.1D_{name}'] = 100 * np.mean([f[0] for f in flags])
        out[f'obj/REP-5px_{name}'] = 100 * np.mean([f[1] for f in flags])
    for name, values in adds_class.items():
        out[f'obj/ADD-S_mm_{name}'] = 1000 * np.mean(values)
        out[f'obj/ADD-S_median_mm_{name}'] = 1000 * statistics.median(values)
    out['obj/ADD-0.1D'] = np.mean([out[f'obj/ADD-0.1D_{n}'] for n in per_class])
    out['obj/REP-5px'] = np.mean([out[f'obj/REP-5px_{n}'] for n in per_class])
    out['obj/ADD-S_mm'] = 1000 * np.mean(adds_all)
    out['obj/OCE_mm'] = 1000 * np.mean(oce_all)
    out['obj/REP_px'] = np.mean(rep_all)
    for key, values in (('ADD-S_median_mm', adds_all), ('OCE_median_mm', oce_all),
                        ('REP_median_px', rep_all)):
        ordered = sorted(values)  # an even count here: the mean of the two middle values
        middle = (ordered[len(values) // 2 - 1] + ordered[len(values) // 2]) / 2
        out[f'obj/{key}'] = middle * (1 if key.endswith('px') else 1000)
    out['obj/implausible_count'] = 0
    out['obj/implausible_ratio'] = 0.0
    return out


@pytest.mark.parametrize('rep_frame', ['image', 'crop'])
def test_scores_match_slow_loop(model_root, rng, rep_frame):
    samples = _samples(rng)
    metric = ObjectPoseMetric(obj_model_root=str(model_root), rep_frame=rep_frame)
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    intr_key = 'ori_cam_intr' if rep_frame == 'image' else 'cam_intr'
    expected = _slow_scores(samples, model_root, {'024_bowl'}, intr_key, rep_frame == 'crop')
    assert scores.keys() == expected.keys()
    for key, value in expected.items():
        assert scores[key] == pytest.approx(value, rel=1e-9), key
    assert 0 < scores['obj/ADD-0.1D_006_mustard_bottle'] < 100


def test_options(model_root, rng):
    samples = _samples(rng)
    metric = ObjectPoseMetric(obj_model_root=str(model_root), symmetric_objects=(),
                              diameter='max_extent', exclude_from_mean=('024_bowl', ))
    metric.process({}, samples)
    scores = metric.evaluate(len(samples))
    assert scores['obj/ADD-0.1D'] == scores['obj/ADD-0.1D_006_mustard_bottle']
    assert metric.model_points('024_bowl') is metric.model_points('024_bowl')  # cached


def test_bad_input(model_root, rng, tmp_path):
    with pytest.raises(FileNotFoundError, match='obj_model_root does not exist'):
        ObjectPoseMetric(obj_model_root=str(tmp_path / 'missing'))
    samples = _samples(rng)
    samples[0]['obj_name'] = '011_banana'
    metric = ObjectPoseMetric(obj_model_root=str(model_root))
    metric.process({}, samples)
    with pytest.raises(KeyError, match='011_banana/points.xyz'):
        metric.evaluate(len(samples))
    samples = _samples(rng)
    samples[4]['pred_instances']['obj_trans'][0, 2] = np.nan
    raising = ObjectPoseMetric(obj_model_root=str(model_root), nan_policy='raise')
    raising.process({}, samples)
    with pytest.raises(ValueError, match=r'sample ids \[4\]'):
        raising.evaluate(len(samples))


def test_packed_diameter_is_read(model_root, rng):
    """By default the dataset's packed ``obj_diameter`` sets the ADD threshold."""
    samples = _samples(rng)
    for s in samples:
        s['gt_instances']['obj_diameter'] = torch.tensor([100.0])  # metres: everything passes
    packed = ObjectPoseMetric(obj_model_root=str(model_root))
    packed.process({}, samples)
    assert packed.evaluate(len(samples))['obj/ADD-0.1D'] == 100.0
    computed = ObjectPoseMetric(obj_model_root=str(model_root), diameter='aabb')
    computed.process({}, samples)
    expected = _slow_scores(samples, model_root, (), 'ori_cam_intr', False)
    assert computed.evaluate(len(samples))['obj/ADD-0.1D'] == pytest.approx(
        expected['obj/ADD-0.1D'])
    assert expected['obj/ADD-0.1D'] < 100.0


class _Records(logging.Handler):
    """Collects the warnings MMLogger emits (it does not propagate to pytest's caplog)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_medians_and_implausible_poses(model_root, rng):
    """One absurd PnP pose (5 km away), one behind the camera, one NaN: the means explode, the
    medians stay at the hand-computed middle values and the three are counted and logged."""
    samples = _samples(rng)
    samples[1]['img_path'] = 'seq/rgb/0001.png'
    samples[1]['pred_instances']['obj_trans'] = np.array([[0.0, 0.0, 5000.0]])
    samples[2]['pred_instances']['obj_trans'] = np.array([[0.0, 0.0, -0.5]])
    samples[5]['pred_instances']['obj_trans'] = np.array([[np.nan, 0.0, 0.6]])
    metric = ObjectPoseMetric(obj_model_root=str(model_root))
    metric.process({}, samples)
    records = _Records()
    logger = MMLogger.get_current_instance()
    logger.addHandler(records)
    try:
        scores = metric.evaluate(len(samples))
    finally:
        logger.removeHandler(records)
    finite = [s for i, s in enumerate(samples) if i != 5]  # the NaN pose is excluded
    expected = _slow_scores(finite, model_root, {'024_bowl'}, 'ori_cam_intr', False)
    oce = []
    for s in finite:
        centre = np.loadtxt(model_root / s['obj_name'] / 'points.xyz').mean(0)
        pose = s['gt_instances']['obj_pose'][0].double().numpy()
        oce.append(np.linalg.norm(pose[:, :3] @ centre + pose[:, 3]
                                  - s['pred_instances']['obj_rot'][0] @ centre
                                  - s['pred_instances']['obj_trans'][0]))
    # five values: the median is the third smallest, far from the 5 km outlier
    assert scores['obj/OCE_median_mm'] == pytest.approx(sorted(oce)[2] * 1000, rel=1e-9)
    assert scores['obj/OCE_median_mm'] < 1000 < 5e5 < scores['obj/OCE_mm']
    assert scores['obj/ADD-S_mm'] == pytest.approx(expected['obj/ADD-S_mm'], rel=1e-9)
    assert scores['obj/implausible_count'] == 3
    assert scores['obj/implausible_ratio'] == pytest.approx(3 / 6)
    log = '\n'.join(records.messages)
    assert '3 of 6 predicted object poses are implausible' in log
    assert 'seq/rgb/0001.png (024_bowl): depth 5e+03 m outside [0.2, 2] m' in log
    assert 'sample_idx 2 (024_bowl): behind the camera' in log
    assert 'sample_idx 5 (006_mustard_bottle): not finite' in log


def test_plausible_depth_option(model_root, rng):
    """The range is an option: a pose at 0.6 m is implausible for a 1-2 m range."""
    samples = _samples(rng, num=4)  # all near 0.6 m
    metric = ObjectPoseMetric(obj_model_root=str(model_root), plausible_depth=(1.0, 2.0))
    metric.process({}, samples)
    assert metric.evaluate(len(samples))['obj/implausible_count'] == 4
    with pytest.raises(ValueError, match='plausible_depth'):
        ObjectPoseMetric(obj_model_root=str(model_root), plausible_depth=(2.0, 1.0))
