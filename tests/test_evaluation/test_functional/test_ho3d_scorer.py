import json

import numpy as np
import pytest

from mmhandobj.evaluation.functional import (
    HO3D_SCORE_KEYS,
    format_ho3d_scores,
    ho3d_scores,
    load_ho3d_gt,
    load_ho3d_pred,
)


def test_scores_match_official_loop(ref, rng):
    pred_xyz, pred_verts, gt_xyz, gt_verts = ref.random_hands(rng, 4)
    pred_xyz[1] *= np.array([-1.0, 1.0, 1.0])  # one mirrored prediction
    scores = ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts, workers=2)
    expected = ref.ref_ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts)
    assert list(scores) == list(HO3D_SCORE_KEYS)
    for key in HO3D_SCORE_KEYS:
        assert scores[key] == pytest.approx(expected[key], abs=1e-9), key
    assert 0 < scores['f_score_5'] < scores['f_score_15'] <= 1


def test_non_mano_vertices_follow_official_fallback(ref, rng):
    pred_xyz, _, gt_xyz, gt_verts = ref.random_hands(rng, 3)
    pred_verts = gt_verts[:, :500] + 0.002
    scores = ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts)
    expected = ref.ref_ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts)
    for key in HO3D_SCORE_KEYS:
        assert scores[key] == pytest.approx(expected[key], abs=1e-9), key
    assert scores['mesh_mean3d'] == -100.0 and scores['mesh_al_auc3d'] == -1.0


def test_all_zero_prediction_and_layout(ref, rng):
    _, _, gt_xyz, gt_verts = ref.random_hands(rng, 2)
    scores = ho3d_scores(np.zeros_like(gt_xyz), np.zeros_like(gt_verts), gt_xyz, gt_verts)
    assert scores['f_score_5'] == 0.0 and scores['f_score_15'] == 0.0
    # aligning a point collapses it onto the GT centroid (README sanity value of the scorer)
    spread = np.linalg.norm(gt_xyz - gt_xyz.mean(axis=1, keepdims=True), axis=-1).mean()
    assert scores['xyz_procrustes_al_mean3d'] == pytest.approx(spread * 100)
    assert scores['xyz_mean3d'] == pytest.approx(np.linalg.norm(gt_xyz, axis=-1).mean() * 100)
    text = format_ho3d_scores(scores)
    lines = text.splitlines()
    assert [line.split(': ')[0] for line in lines] == list(HO3D_SCORE_KEYS)
    assert lines[0] == f"xyz_mean3d: {scores['xyz_mean3d']:f}"
    assert text.endswith('\n')


def test_bad_input_is_named(ref, rng, tmp_path):
    pred_xyz, pred_verts, gt_xyz, gt_verts = ref.random_hands(rng, 2)
    with pytest.raises(ValueError, match='pred_verts has 1 frames'):
        ho3d_scores(pred_xyz, pred_verts[:1], gt_xyz, gt_verts)
    pred_xyz[1, 3, 0] = np.nan
    with pytest.raises(ValueError, match=r'pred_xyz has non-finite values in 1 frames'):
        ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts)
    with pytest.raises(FileNotFoundError, match='evaluation_xyz.json'):
        load_ho3d_gt(str(tmp_path))
    bad = tmp_path / 'pred.json'
    bad.write_text(json.dumps([[np.zeros((21, 3)).tolist()]]))
    with pytest.raises(ValueError, match=r'expected a JSON list \[xyz_list, verts_list\]'):
        load_ho3d_pred(str(bad))
    bad.write_text(json.dumps([[np.zeros((20, 3)).tolist()], [np.zeros((778, 3)).tolist()]]))
    with pytest.raises(ValueError, match='must have 21 joints'):
        load_ho3d_pred(str(bad))
