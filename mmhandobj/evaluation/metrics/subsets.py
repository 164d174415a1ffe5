"""Scoring a metric over subsets of the frames: hand-object proximity, object class, occlusion.

The metrics that accept ``subsets=True`` add, next to their own keys, the same numbers over
each non-empty subset of the scored frames, as ``subset/<subset>/<key>`` (after the metric's
prefix, e.g. ``ho3d/subset/occl_10-40/xyz_procrustes_al_mean3d``), with the frame count as
``subset/<subset>/frames``. Subsets (from the metainfo that
:class:`~mmhandobj.datasets.transforms.ComputeHandObjectSubsets` and the dataset give):

* ``hand_object`` / ``hand_only``: GT hand within / farther than :data:`HAND_OBJECT_DISTANCE`
  of the GT object (metainfo ``hand_obj_distance``); frames without the tag are in neither.
* ``obj_<name>``: the frame's object class (metainfo ``obj_name``).
* ``occl_<lo>-<hi>``: the share of the hand's projected area the object covers (metainfo
  ``hand_occlusion``), in the percent bins of :data:`OCCLUSION_BINS`; frames without the tag
  are in none.
"""
import math
from typing import Callable, Dict, List, Sequence

import numpy as np

from mmhandobj.structures.sample_fields import get_meta

#: Largest GT hand-object distance (metres) of a hand-object frame: the model points sample
#: the surface every few mm and GT hand fits are off by about as much, so 1 cm separates a
#: grasp from a hand approaching the object or leaving it.
HAND_OBJECT_DISTANCE = 0.01
#: Occlusion bins ``(name, low, high)`` over the covered fraction: ``[low, high)``, the last
#: one closed. Little (< 10 %), partly (10-40 %) and heavily (>= 40 %) occluded hands.
OCCLUSION_BINS = (('occl_0-10', 0.0, 0.1), ('occl_10-40', 0.1, 0.4), ('occl_40-100', 0.4, 1.0))
SUBSET_KEY = 'subset'


def subset_tags(data_sample: dict) -> dict:
    """The subset tags of one sample's metainfo (NaN / ``''`` where absent).

    Returns:
        ``dict(obj_name=str, occlusion=float fraction, distance=float metres)``.
    """
    return dict(
        obj_name=str(get_meta(data_sample, 'obj_name', '', required=False)),
        occlusion=float(get_meta(data_sample, 'hand_occlusion', math.nan, required=False)),
        distance=float(get_meta(data_sample, 'hand_obj_distance', math.nan, required=False)))


def subset_masks(tags: Sequence[dict], by_object: bool = True) -> Dict[str, np.ndarray]:
    """Boolean frame masks of the subsets (see the module docstring), in a fixed order.

    Args:
        tags: One :func:`subset_tags` dict per scored frame.
        by_object: Also the per-class subsets ``obj_<name>``.

    Returns:
        Subset name -> ``(N,)`` bool mask; every subset of the module docstring, empty ones
        included.
    """
    distance = np.array([t['distance'] for t in tags], np.float64).reshape(-1)
    occlusion = np.array([t['occlusion'] for t in tags], np.float64).reshape(-1)
    masks = {'hand_object': distance <= HAND_OBJECT_DISTANCE,
             'hand_only': distance > HAND_OBJECT_DISTANCE}  # NaN: neither
    if by_object:
        names = np.array([t['obj_name'] for t in tags], dtype=object)
        for name in sorted(set(names) - {''}):
            masks[f'obj_{name}'] = names == name
    for index, (name, low, high) in enumerate(OCCLUSION_BINS):
        last = index == len(OCCLUSION_BINS) - 1
        masks[name] = (occlusion >= low) & ((occlusion <= high) if last else (occlusion < high))
    return masks


def score_subsets(score: Callable[[np.ndarray], Dict[str, float]],
                  masks: Dict[str, np.ndarray]) -> Dict[str, float]:
    """Score every non-empty subset.

    Args:
        score: Maps an ``(N,)`` bool frame mask to ``{key: value}``.
        masks: Subset name -> ``(N,)`` bool mask (:func:`subset_masks`).

    Returns:
        ``subset/<name>/<key>`` -> value and ``subset/<name>/frames`` -> frame count, for the
        subsets with at least one frame.
    """
    scores: Dict[str, float] = {}
    for name, mask in masks.items():
        if not mask.any():
            continue
        scores[f'{SUBSET_KEY}/{name}/frames'] = int(mask.sum())
        for key, value in score(mask).items():
            scores[f'{SUBSET_KEY}/{name}/{key}'] = value
    return scores


def subset_means(per_frame: Dict[str, np.ndarray], tags: List[dict],
                 by_object: bool = True) -> Dict[str, float]:
    """Means of per-frame values over every non-empty subset.

    Args:
        per_frame: Key -> ``(N,)`` value of each scored frame.
        tags: One :func:`subset_tags` dict per scored frame, same order.
        by_object: Also the per-class subsets.

    Returns:
        See :func:`score_subsets`.
    """
    return score_subsets(
        lambda mask: {key: float(values[mask].mean()) for key, values in per_frame.items()},
        subset_masks(tags, by_object))
