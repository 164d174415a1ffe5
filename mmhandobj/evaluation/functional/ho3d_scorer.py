"""Every number of the official HO3D scorer (``shreyashampali/ho3d`` ``eval.py``), batched.

The official scorer reads ``pred.json`` (``[xyz_list, verts_list]``: 21 joints in HO3D order
and 778 vertices per frame, metres, OpenGL camera) and the released GT files
``evaluation_xyz.json`` / ``evaluation_verts.json``, and writes ``scores.txt`` with:

* ``xyz_mean3d`` / ``xyz_auc3d``: joints, no alignment;
* ``xyz_procrustes_al_*``: joints after ``align_w_scale`` (reflection allowed);
* ``xyz_scale_trans_al_*``: joints after ``align_sc_tr`` (bone joint 0 -> joint 4);
* ``mesh_mean3d`` / ``mesh_auc3d`` and ``mesh_al_*``: vertices, raw and Procrustes-aligned
  (``-1`` when the prediction does not have as many vertices as the GT);
* ``f_score_5`` / ``f_al_score_5`` / ``f_score_15`` / ``f_al_score_15``: vertex F-scores at
  5 mm and 15 mm, raw and aligned.

Means are in **cm** (metres x 100); AUCs (thresholds ``linspace(0, 0.05 m, 100)``) and
F-scores are fractions in [0, 1]; every value is printed with ``%f``.
"""
import json
import os.path as osp
import re
from typing import Dict, Tuple

import numpy as np

from .alignment import (
    align_procrustes,
    align_scale_translation,
    apply_procrustes_transform,
    procrustes_transform,
)
from .array_utils import check_points
from .fscore import HO3D_FSCORE_THRESHOLDS, fscore_multi
from .keypoint_error import point_error_measures

#: Number of frames of the official evaluation split per HO3D version.
HO3D_EVAL_SIZES: Dict[str, int] = {'v2': 11524, 'v3': 20137}
#: Keys of ``scores.txt`` in the order the official scorer writes them.
HO3D_SCORE_KEYS: Tuple[str, ...] = (
    'xyz_mean3d', 'xyz_auc3d', 'xyz_procrustes_al_mean3d', 'xyz_procrustes_al_auc3d',
    'xyz_scale_trans_al_mean3d', 'xyz_scale_trans_al_auc3d', 'mesh_mean3d', 'mesh_auc3d',
    'mesh_al_mean3d', 'mesh_al_auc3d', 'f_score_5', 'f_al_score_5', 'f_score_15',
    'f_al_score_15')
#: Names of the released GT files inside a GT directory.
HO3D_GT_FILES: Tuple[str, str] = ('evaluation_xyz.json', 'evaluation_verts.json')


def _distances(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(np.square(gt - pred), axis=-1))


def ho3d_scores(pred_xyz, pred_verts, gt_xyz, gt_verts, workers: int = 1) -> Dict[str, float]:
    """Compute every number of the official HO3D ``scores.txt``.

    Args:
        pred_xyz: ``(N, 21, 3)`` predicted joints, metres, HO3D order, same camera convention
            as the GT (OpenGL for the released files).
        pred_verts: ``(N, V, 3)`` predicted vertices, metres. When ``V`` differs from the GT
            vertex count the mesh errors are ``-1`` and the aligned vertices use the joint
            transform, as in the official scorer.
        gt_xyz: ``(N, 21, 3)`` GT joints.
        gt_verts: ``(N, 778, 3)`` GT vertices.
        workers: Threads for the nearest-neighbour searches; ``-1`` for all CPUs.

    Returns:
        Dict with the keys of :data:`HO3D_SCORE_KEYS`, in the official units (means in cm).
    """
    pred_xyz = check_points(pred_xyz, 'pred_xyz', 21)
    gt_xyz = check_points(gt_xyz, 'gt_xyz', 21)
    gt_verts = check_points(gt_verts, 'gt_verts')
    pred_verts = check_points(pred_verts, 'pred_verts')
    num = len(gt_xyz)
    for name, array in (('pred_xyz', pred_xyz), ('pred_verts', pred_verts),
                        ('gt_verts', gt_verts)):
        if len(array) != num:
            raise ValueError(f'{name} has {len(array)} frames but gt_xyz has {num}')
    if num == 0:
        raise ValueError('no frames to score')
    for name, array in (('pred_xyz', pred_xyz), ('pred_verts', pred_verts)):
        bad = np.flatnonzero(~np.isfinite(array).reshape(num, -1).all(axis=1))
        if len(bad):
            raise ValueError(f'{name} has non-finite values in {len(bad)} frames (indices '
                             f'{bad.tolist()[:20]}); exclude them first')
    shape_is_mano = pred_verts.shape[1] == gt_verts.shape[1]

    scores: Dict[str, float] = {}
    joint_sets = (
        ('xyz', pred_xyz),
        ('xyz_procrustes_al', align_procrustes(pred_xyz, gt_xyz)),
        ('xyz_scale_trans_al', align_scale_translation(pred_xyz, gt_xyz)),
    )
    for name, aligned in joint_sets:
        measures = point_error_measures(_distances(aligned, gt_xyz), 0.0, 0.05, 100)
        scores[f'{name}_mean3d'] = measures.mean * 100
        scores[f'{name}_auc3d'] = measures.auc

    if shape_is_mano:
        verts_aligned = align_procrustes(pred_verts, gt_verts)
        for name, verts in (('mesh', pred_verts), ('mesh_al', verts_aligned)):
            measures = point_error_measures(_distances(verts, gt_verts), 0.0, 0.05, 100)
            scores[f'{name}_mean3d'] = measures.mean * 100
            scores[f'{name}_auc3d'] = measures.auc
    else:
        verts_aligned = apply_procrustes_transform(
            pred_verts, procrustes_transform(pred_xyz, gt_xyz))
        for name in ('mesh', 'mesh_al'):
            scores[f'{name}_mean3d'] = -1.0 * 100
            scores[f'{name}_auc3d'] = -1.0

    fscores = fscore_multi(gt_verts, [pred_verts, verts_aligned], HO3D_FSCORE_THRESHOLDS,
                           workers).mean(axis=1)
    for index, threshold in enumerate(HO3D_FSCORE_THRESHOLDS):
        millimetres = round(threshold * 1000)
        scores[f'f_score_{millimetres}'] = float(fscores[0, index])
        scores[f'f_al_score_{millimetres}'] = float(fscores[1, index])
    return {key: float(scores[key]) for key in HO3D_SCORE_KEYS}


def format_ho3d_scores(scores: Dict[str, float]) -> str:
    """Render scores in the official ``scores.txt`` layout (``key: %f`` per line)."""
    missing = [key for key in HO3D_SCORE_KEYS if key not in scores]
    if missing:
        raise KeyError(f'scores lack the official keys {missing}')
    return ''.join(f'{key}: {scores[key]:f}\n' for key in HO3D_SCORE_KEYS)


#: Largest HO3D JSON file read (bytes); the v3 evaluation split's vertices are ~1 GB as text.
MAX_HO3D_JSON_BYTES = 4 << 30
#: Largest coordinate magnitude accepted (metres); NaN/inf are left to the NaN policy.
MAX_ABS_COORD_M = 100.0
#: Longest integer literal accepted (digits); longer ones are no coordinate.
_MAX_INT_DIGITS = 20
#: Characters of a JSON text made only of numbers in nested arrays (NaN/Infinity aside).
_NOT_NUMERIC_JSON = re.compile(r'NaN|Infinity|([^-+0-9eE.,\[\]\s])')


def _parse_int(text: str) -> float:
    if len(text.lstrip('-')) > _MAX_INT_DIGITS:
        raise ValueError(f'an integer of {len(text)} digits')
    return float(text)


def _first_non_number(node, path: str):
    """``(json path, value)`` of the first leaf that is not a number (bool counts as none)."""
    stack = [(node, path)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, list):
            stack.extend((v, f'{where}[{i}]') for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            return where, value
    return None


def _load_json(path: str, what: str):
    """Read a JSON file of nested arrays of numbers (size, characters and integers checked)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'{what} not found: {path}')
    size = osp.getsize(path)
    if size > MAX_HO3D_JSON_BYTES:
        raise ValueError(f'{what} {path} is {size} bytes, more than the '
                         f'{MAX_HO3D_JSON_BYTES} bytes an HO3D file can need')
    with open(path, encoding='utf-8', errors='replace') as file:
        text = file.read()
    try:
        data = json.loads(text, parse_int=_parse_int)
    except RecursionError:
        raise ValueError(f'{what} {path} is nested too deeply; expected '
                         '[[frame of [x, y, z] points], ...]') from None
    except ValueError as err:
        raise ValueError(f'{what} {path} is not valid JSON of numbers: {err}') from None
    for match in _NOT_NUMERIC_JSON.finditer(text):
        if match.group(1) is not None:
            found = _first_non_number(data, 'top level')
            where = (f'{found[0]} holds {found[1]!r}' if found is not None else
                     f'character {match.group(1)!r} at offset {match.start()}')
            raise ValueError(f'{what} {path}: {where}; expected only numbers (no strings, '
                             'booleans, null or objects)')
    return data


def _stack_frames(frames, path: str, what: str) -> np.ndarray:
    """Stack a JSON list of per-frame ``(K, 3)`` lists into ``(N, K, 3)``, metres.

    Raises:
        ValueError: Naming the file, ``what`` and the first frame that is not a ``(K, 3)``
            list of numbers or has a coordinate beyond :data:`MAX_ABS_COORD_M`.
    """
    if not isinstance(frames, list) or not frames:
        raise ValueError(f'{path}: {what} must be a non-empty list of frames')
    try:
        array = np.array(frames, dtype=np.float64)
    except (ValueError, TypeError) as err:
        raise ValueError(f'{path}: {what} frames do not all have the same (K, 3) shape '
                         f'({err})') from None
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f'{path}: {what} must be N lists of (K, 3) points, got array '
                         f'shape {tuple(array.shape)}')
    with np.errstate(invalid='ignore'):
        too_far = np.abs(array) > MAX_ABS_COORD_M
    if too_far.any():
        frame = int(np.flatnonzero(too_far.reshape(len(array), -1).any(axis=1))[0])
        raise ValueError(f'{path}: {what} frame {frame} has a coordinate of '
                         f'{array[frame][too_far[frame]][0]:g} m; expected metres within '
                         f'+-{MAX_ABS_COORD_M:g} (NaN/inf mark a failed frame)')
    return array


def load_ho3d_pred(path: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read a submission ``pred.json`` into ``(N, 21, 3)`` joints and ``(N, V, 3)`` vertices.

    Raises:
        ValueError: Naming the file and the field / frame when it is not
            ``[xyz_list, verts_list]`` of numbers within :data:`MAX_ABS_COORD_M` metres (a
            string, boolean, null or object anywhere, a huge integer, deep nesting, a file
            larger than :data:`MAX_HO3D_JSON_BYTES`).
    """
    pred = _load_json(path, 'HO3D prediction file')
    if not isinstance(pred, list) or len(pred) != 2:
        length = f' of length {len(pred)}' if isinstance(pred, list) else ''
        raise ValueError(f'{path}: expected a JSON list [xyz_list, verts_list], got '
                         f'{type(pred).__name__}{length}')
    xyz = _stack_frames(pred[0], path, 'xyz_list')
    verts = _stack_frames(pred[1], path, 'verts_list')
    if xyz.shape[1] != 21:
        raise ValueError(f'{path}: xyz_list frames must have 21 joints, got {xyz.shape[1]}')
    if len(xyz) != len(verts):
        raise ValueError(f'{path}: xyz_list has {len(xyz)} frames but verts_list has '
                         f'{len(verts)}')
    return xyz, verts


def load_ho3d_gt(gt_dir: str) -> Tuple[np.ndarray, np.ndarray]:
    """Read the released GT ``evaluation_xyz.json`` and ``evaluation_verts.json`` of a folder.

    Returns:
        ``(N, 21, 3)`` joints and ``(N, 778, 3)`` vertices (metres, OpenGL, HO3D order).
    """
    xyz_path, verts_path = (osp.join(gt_dir, name) for name in HO3D_GT_FILES)
    xyz = _stack_frames(_load_json(xyz_path, 'HO3D GT joints file'), xyz_path, 'joints')
    verts = _stack_frames(_load_json(verts_path, 'HO3D GT vertices file'), verts_path,
                          'vertices')
    if xyz.shape[1] != 21:
        raise ValueError(f'{xyz_path}: frames must have 21 joints, got {xyz.shape[1]}')
    if len(xyz) != len(verts):
        raise ValueError(f'{xyz_path} has {len(xyz)} frames but {verts_path} has {len(verts)}')
    return xyz, verts
