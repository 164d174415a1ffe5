import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from mmhandobj.evaluation.functional import (
    align_points,
    align_procrustes,
    align_scale_translation,
    align_umeyama,
    apply_procrustes_transform,
    procrustes_transform,
)


def _similar(points, rng, scale=1.7, mirror=False):
    rot = Rotation.random(random_state=1).as_matrix()
    if mirror:
        rot = rot @ np.diag([-1.0, 1.0, 1.0])
    return scale * points @ rot.T + rng.normal(size=3)


def test_procrustes_matches_official_loop(ref, rng):
    gt = rng.normal(size=(5, 21, 3))
    pred = gt + rng.normal(scale=0.2, size=gt.shape)
    expected = np.stack([ref.ref_align_w_scale(g, p) for g, p in zip(gt, pred)])
    np.testing.assert_allclose(align_procrustes(pred, gt), expected, atol=1e-12)


def test_procrustes_transform_matches_official_align_by_trafo(ref, rng):
    gt = rng.normal(size=(3, 21, 3))
    pred = gt + rng.normal(scale=0.2, size=gt.shape)
    verts = rng.normal(size=(3, 50, 3))
    expected = np.stack([ref.ref_align_by_trafo(v, ref.ref_align_w_scale(g, p, True))
                         for g, p, v in zip(gt, pred, verts)])
    result = apply_procrustes_transform(verts, procrustes_transform(pred, gt))
    np.testing.assert_allclose(result, expected, atol=1e-12)


def test_umeyama_matches_hflnet_loop(ref, rng):
    gt = rng.normal(size=(5, 21, 3))
    pred = gt + rng.normal(scale=0.3, size=gt.shape)
    pred[0] = _similar(gt[0], rng, mirror=True)  # forces the determinant fix
    expected = np.stack([ref.ref_umeyama(p, g) for g, p in zip(gt, pred)])
    np.testing.assert_allclose(align_umeyama(pred, gt), expected, atol=1e-12)


def test_scale_translation_matches_official_loop(ref, rng):
    gt = rng.normal(size=(4, 21, 3))
    pred = gt * 3 + rng.normal(scale=0.1, size=gt.shape)
    pred[1, 4] = pred[1, 0]  # zero-length bone: the official code skips the division
    expected = np.stack([ref.ref_align_sc_tr(g, p) for g, p in zip(gt, pred)])
    np.testing.assert_allclose(align_scale_translation(pred, gt), expected, atol=1e-12)


@pytest.mark.parametrize('align', [align_procrustes, align_umeyama])
def test_identity_and_similarity_are_recovered(align, rng):
    gt = rng.normal(size=(2, 21, 3))
    np.testing.assert_allclose(align(gt, gt), gt, atol=1e-7)
    pred = np.stack([_similar(g, rng) for g in gt])  # pure rotation + scale + translation
    np.testing.assert_allclose(align(pred, gt), gt, atol=1e-7)


def test_reflection_conventions_differ(rng):
    gt = rng.normal(size=(1, 21, 3))
    mirrored = _similar(gt[0], rng, scale=1.0, mirror=True)[None]
    # reflection allowed: the mirrored set is aligned perfectly
    np.testing.assert_allclose(align_procrustes(mirrored, gt), gt, atol=1e-7)
    # reflection forbidden: a proper rotation cannot undo a mirror
    error = np.linalg.norm(align_umeyama(mirrored, gt) - gt, axis=-1).mean()
    assert error > 0.1


def test_scale_translation_hand_case():
    gt = np.zeros((1, 21, 3))
    gt[0, 4] = [0.0, 0.1, 0.0]
    gt[0, 7] = [0.05, 0.0, 0.0]
    pred = 2.0 * gt + np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(align_scale_translation(pred, gt), gt, atol=1e-12)


def test_align_points_modes_and_torch_input(rng):
    gt = rng.normal(size=(2, 21, 3))
    pred = gt + 5.0
    pred_root, gt_root = align_points(torch.from_numpy(pred).float(), gt, 'root')
    np.testing.assert_allclose(pred_root, gt_root, atol=1e-5)
    np.testing.assert_allclose(pred_root, gt - gt[:, :1], atol=1e-5)
    with pytest.raises(ValueError, match='alignment must be one of'):
        align_points(pred, gt, 'scale')


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match=r'pred: expected shape \(N, K, 3\)'):
        align_procrustes(np.zeros((21, 3)), np.zeros((21, 3)))
    with pytest.raises(ValueError, match='pred has shape'):
        align_umeyama(np.zeros((2, 21, 3)), np.zeros((2, 20, 3)))
