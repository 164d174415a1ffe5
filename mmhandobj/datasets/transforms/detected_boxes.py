"""Test HFL-Net on detected boxes (and the detected object class) instead of the ground truth."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmhandobj.registry import TRANSFORMS
from mmhandobj.structures.detection_classes import category_side_or_name, is_hand_category

from ..detection_file import load_detection_file
from ..object_models import ObjectModelBank

_OBJ_SELECTIONS = ('score', 'nearest_hand')
_FALLBACKS = ('gt', 'image')
_HAND_SIDES = ('gt', 'detection')
#: 2D ground truth that would otherwise decide the crop and the RoIs.
_GT_2D_KEYS = ('joints2d', 'obj_kps2d', 'hand_box_hint')


def box_centre(box: np.ndarray) -> np.ndarray:
    """Centre ``(2,)`` of an x1y1x2y2 box."""
    box = np.asarray(box, np.float64)
    return (box[:2] + box[2:]) / 2


def pick_hand_and_object(dets: List[dict], score_thr: float = 0.0,
                         obj_selection: str = 'score') -> Tuple[Optional[dict], Optional[dict]]:
    """The hand and the object HFL-Net should use among one image's detections.

    Args:
        dets: ``{"bbox" (x1y1x2y2), "score", "category_id"}`` each.
        score_thr: Detections scoring below it are ignored.
        obj_selection: ``'score'`` (the highest-scoring object) or ``'nearest_hand'`` (the
            object whose box centre is nearest the chosen hand's, highest score on ties; the
            highest-scoring object when no hand is found).

    Returns:
        ``(hand, object)`` detections, each None when there is none above ``score_thr``.
    """
    if obj_selection not in _OBJ_SELECTIONS:
        raise ValueError(f'obj_selection must be one of {_OBJ_SELECTIONS}, got {obj_selection!r}')
    kept = sorted((d for d in dets if d['score'] >= score_thr), key=lambda d: -d['score'])
    hands = [d for d in kept if is_hand_category(d['category_id'])]
    objects = [d for d in kept if not is_hand_category(d['category_id'])]
    hand = hands[0] if hands else None
    if not objects:
        return hand, None
    if obj_selection == 'nearest_hand' and hand is not None:
        centre = box_centre(hand['bbox'])
        dist = [float(np.linalg.norm(box_centre(o['bbox']) - centre)) for o in objects]
        return hand, objects[int(np.argmin(dist))]
    return hand, objects[0]


@TRANSFORMS.register_module()
class LoadDetectedBoxes(BaseTransform):
    """Replace the ground-truth hand/object boxes by detections read from a detection file.

    Put it right after ``LoadHandObjectImage`` in an HFL-Net test pipeline. For each frame
    (found by ``frame_key``, else ``img_path``) the top-scoring hand and the chosen object
    detection (:func:`pick_hand_and_object`) become ``hand_box_hint`` / ``obj_box_hint``
    (original-image pixels), from which the crop and the RoIs are built exactly as from given
    boxes; the 2D ground truth (``joints2d``, ``obj_kps2d``) is removed, the 3D ground truth
    stays for the metrics. The object's 3D box keypoints used by PnP (``obj_kps3d``) are those
    of the DETECTED class (``det_obj_name``) when ``obj_model_root`` is given; ``obj_name``
    stays the ground truth, which the metrics score against.

    When a frame lacks a hand or an object detection above ``score_thr``, or the detected
    object class has no model in ``obj_model_root`` (counted as ``no_obj_model``), ``fallback``
    decides: ``'gt'`` uses that ground-truth box (the frame stays scored like the others),
    ``'image'`` leaves it out (the crop falls back to the other box, or to the whole image).
    Every fallback is logged with the running counts of this process; :attr:`counts` holds them.

    Required keys: ``frame_key`` or ``img_path``; for ``fallback='gt'`` the GT 2D points.
    Added keys: ``hand_box_hint``, ``obj_box_hint`` ((4,) float32), ``det_hand_score``,
    ``det_obj_score``, ``det_obj_name``. Removed keys: ``joints2d``, ``obj_kps2d``.
    Modified keys: ``hand_side`` (with ``hand_side='detection'``), ``obj_kps3d``.

    Args:
        det_file: A file from ``tools/test.py DET_CONFIG DET_CKPT --out dets.json``.
        score_thr: Minimum detection score.
        obj_selection: ``'score'`` or ``'nearest_hand'``.
        fallback: ``'gt'`` or ``'image'``.
        hand_side: ``'gt'`` (the dataset's side) or ``'detection'`` (the detected class's).
        obj_model_root: Folder of ``<name>/points.xyz`` for the detected class's keypoints
            (None: PnP keeps the ground-truth object's keypoints, only the box is detected).

    Raises:
        KeyError: A frame missing from the detection file (made on another split?).
        ValueError: A malformed detection file (see
            :func:`~mmhandobj.datasets.detection_file.load_detection_file`).
    """

    def __init__(self, det_file: str, score_thr: float = 0.3, obj_selection: str = 'score',
                 fallback: str = 'gt', hand_side: str = 'gt',
                 obj_model_root: Optional[str] = None) -> None:
        if fallback not in _FALLBACKS:
            raise ValueError(f'fallback must be one of {_FALLBACKS}, got {fallback!r}')
        if hand_side not in _HAND_SIDES:
            raise ValueError(f'hand_side must be one of {_HAND_SIDES}, got {hand_side!r}')
        if obj_selection not in _OBJ_SELECTIONS:
            raise ValueError(f'obj_selection must be one of {_OBJ_SELECTIONS}, '
                             f'got {obj_selection!r}')
        self.det_file = det_file
        self.score_thr = score_thr
        self.obj_selection = obj_selection
        self.fallback = fallback
        self.hand_side = hand_side
        self.obj_model_root = obj_model_root
        # parsed here, in the process that builds the dataset, so that forked data-loader
        # workers share it instead of each parsing the file (a missing file is reported at the
        # first frame, as before)
        self._dets: Optional[Dict[str, List[dict]]] = (
            load_detection_file(det_file) if osp.isfile(det_file) else None)
        self._models = ObjectModelBank(obj_model_root) if obj_model_root else None
        self.counts = dict(frames=0, no_hand=0, no_obj=0, wrong_obj_class=0, no_obj_model=0)

    def _lookup(self, results: dict) -> List[dict]:
        if self._dets is None:
            self._dets = load_detection_file(self.det_file)
        for key in (results.get('frame_key'), results.get('img_path')):
            if key and str(key) in self._dets:
                return self._dets[str(key)]
        raise KeyError(f'{self.det_file} has no entry for frame {results.get("frame_key")!r} '
                       f'({results.get("img_path")}); was it written on this test split? '
                       '(tools/test.py DET_CONFIG DET_CKPT --out dets.json with the same '
                       'dataset and split)')

    def _fall_back(self, results: dict, kind: str, reason: Optional[str] = None) -> None:
        count = 'no_obj_model' if reason else f'no_{kind}'
        self.counts[count] += 1
        action = ('ground-truth box used' if self.fallback == 'gt'
                  else 'no box (crop from the other box or the whole image)')
        reason = reason or f'no {kind} detection >= {self.score_thr}'
        print_log(f'LoadDetectedBoxes: {reason} for frame '
                  f'{results.get("frame_key") or results.get("img_path")}: {action} '
                  f'({self.counts[count]} of {self.counts["frames"]} frames so far)',
                  logger='current', level=30)

    def _detected_keypoints(self, name: str) -> Tuple[Optional[np.ndarray], Optional[str]]:
        """The detected class's 3D box keypoints, or why there are none (no model file)."""
        try:
            return self._models.keypoints3d(name).copy(), None
        except KeyError as err:
            return None, f'detected object class without a model ({err.args[0]})'

    def transform(self, results: dict) -> dict:
        self.counts['frames'] += 1
        hand, obj = pick_hand_and_object(self._lookup(results), self.score_thr,
                                         self.obj_selection)
        gt_2d = {key: results.pop(key) for key in _GT_2D_KEYS if key in results}
        if hand is not None:
            results['hand_box_hint'] = np.asarray(hand['bbox'], np.float32)
            results['det_hand_score'] = hand['score']
            if self.hand_side == 'detection':
                results['hand_side'] = category_side_or_name(hand['category_id'])[1]
        else:
            self._fall_back(results, 'hand')
            if self.fallback == 'gt':
                for key in ('joints2d', 'hand_box_hint'):
                    if key in gt_2d:
                        results[key] = gt_2d[key]
        name = category_side_or_name(obj['category_id'])[1] if obj is not None else None
        kps3d, missing_model = None, None
        if name is not None and name != results.get('obj_name') and self._models is not None:
            kps3d, missing_model = self._detected_keypoints(name)
        if obj is not None and missing_model is None:
            results.update(obj_box_hint=np.asarray(obj['bbox'], np.float32),
                           det_obj_score=obj['score'], det_obj_name=name)
            if name != results.get('obj_name'):
                self.counts['wrong_obj_class'] += 1
                if kps3d is not None:
                    results['obj_kps3d'] = kps3d
        else:
            self._fall_back(results, 'obj', missing_model)
            if self.fallback == 'gt' and 'obj_kps2d' in gt_2d:
                results['obj_kps2d'] = gt_2d['obj_kps2d']
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(det_file={self.det_file!r}, score_thr={self.score_thr}, '
                f'obj_selection={self.obj_selection!r}, fallback={self.fallback!r}, '
                f'hand_side={self.hand_side!r}, obj_model_root={self.obj_model_root!r})')
