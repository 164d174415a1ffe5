"""State an inferencer keeps across frames: the box track and the object models in use."""
import logging
from typing import Dict, List, Optional, Tuple

import numpy as np
from mmengine.logging import print_log

from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.datasets.transforms import pick_hand_and_object
from mmhandobj.structures import box_iou
from mmhandobj.structures.detection_classes import DET_CATEGORIES, is_hand_category

from .meshes import read_obj_mesh

#: The mesh file of an object model, as the datasets store it (``<root>/<name>/<file>``).
OBJECT_MESH_FILE = 'textured_simple.obj'


class BoxTracker:
    """Keeps the hand and object boxes between detections (IoU association).

    On each update the hand and the object are the detections (score >= ``score_thr``) that
    overlap the current track best (IoU >= ``track_iou``), else the ones
    :func:`pick_hand_and_object` picks (a new track); when a frame has none, the previous boxes
    are kept. Detections of category ids outside the class table are ignored (said once per
    id).

    Args:
        score_thr: Minimum detection score.
        track_iou: IoU with the track for a detection to continue it.
        obj_selection: Object of a new track: ``'score'`` or ``'nearest_hand'``.
    """

    def __init__(self, score_thr: float, track_iou: float, obj_selection: str = 'score') -> None:
        self.score_thr, self.track_iou = score_thr, track_iou
        self.obj_selection = obj_selection
        self.hand: Optional[dict] = None
        self.obj: Optional[dict] = None
        self.unknown_said: set = set()

    def _continue(self, dets: List[dict], current: Optional[dict]) -> Optional[dict]:
        """The detection that continues the track ``current``, None if none overlaps it."""
        if not dets or current is None:
            return None
        ious = box_iou(current['bbox'], np.stack([d['bbox'] for d in dets]))
        return dets[int(np.argmax(ious))] if ious.max() >= self.track_iou else None

    def update(self, dets: List[dict]) -> None:
        """Associate one frame's detections (``{"bbox", "score", "category_id"}``)."""
        unknown = sorted({int(d['category_id']) for d in dets} - set(DET_CATEGORIES)
                         - self.unknown_said)
        if unknown:
            self.unknown_said.update(unknown)
            print_log(f'detections of unknown category ids {unknown} ignored (known: '
                      f'1..{len(DET_CATEGORIES)}; a detector trained on another class table?)',
                      logger='current', level=logging.WARNING)
        kept = [d for d in dets
                if d['score'] >= self.score_thr and int(d['category_id']) in DET_CATEGORIES]
        new_hand, new_obj = pick_hand_and_object(kept, self.score_thr, self.obj_selection)
        hand = self._continue([d for d in kept if is_hand_category(d['category_id'])],
                              self.hand) or new_hand
        obj = self._continue([d for d in kept if not is_hand_category(d['category_id'])],
                             self.obj) or new_obj
        self.hand = hand or self.hand
        self.obj = obj or self.obj

    @property
    def complete(self) -> bool:
        """Both a hand and an object are tracked."""
        return self.hand is not None and self.obj is not None


class ObjectModelCache:
    """The object models an inferencer solves poses with; a missing or unknown one is said
    once (logged as a warning) and its frames get the hand only.

    Args:
        root: Folder with ``<name>/points.xyz`` (and ``<name>/textured_simple.obj`` for meshes),
            None when no folder is known.
    """

    def __init__(self, root: Optional[str]) -> None:
        self.bank = ObjectModelBank(root) if root else None
        #: Object name (or ``'category <id>'``) -> why it has no usable model.
        self.issues: Dict[str, str] = {}
        self._meshes: Dict[str, Optional[Tuple[np.ndarray, np.ndarray]]] = {}

    @property
    def root(self) -> Optional[str]:
        return self.bank.model_root if self.bank is not None else None

    def _report(self, key: str, issue: str) -> str:
        if key not in self.issues:
            self.issues[key] = issue
            print_log(f'{issue}; the hand only (no object pose) in the frames of this object',
                      logger='current', level=logging.WARNING)
        return self.issues[key]

    def issue(self, name: Optional[str]) -> Optional[str]:
        """None when ``name`` has a readable ``points.xyz``, else why not (said once)."""
        if name is None:
            return 'no object name (give obj_name or a detector)'
        if name in self.issues:
            return self.issues[name]
        if self.bank is None:
            return self._report(name, f'object {name!r}: no object models folder (give '
                                'obj_model_root; the config\'s test dataset has no data_root)')
        try:
            self.bank.points(name)
        except (KeyError, ValueError, OSError) as err:
            reason = err.args[0] if isinstance(err, KeyError) else str(err)
            return self._report(name, f'object {name!r}: {reason}')
        return None

    def mesh(self, name: str) -> Optional[Tuple[np.ndarray, np.ndarray]]:
        """``(V, 3)`` vertices (metres, model frame) and ``(F, 3)`` triangles of the object's
        ``textured_simple.obj``; None (said once) when it is missing or unreadable."""
        if name not in self._meshes:
            path = f'{self.root}/{name}/{OBJECT_MESH_FILE}'
            try:
                self._meshes[name] = read_obj_mesh(path)
            except (OSError, ValueError) as err:
                self._meshes[name] = None
                print_log(f'object {name!r}: no mesh written ({err})', logger='current',
                          level=logging.WARNING)
        return self._meshes[name]
