"""COCO-style detection files: what ``tools/test.py DET_CONFIG DET_CKPT --out dets.json`` writes.

One JSON object in the COCO dataset layout, so that ``pycocotools.coco.COCO(path)`` reads it and
``COCO.loadRes(data['annotations'])`` scores it:

* ``categories``: ``{"id", "name", "supercategory"}`` of
  :data:`~mmhandobj.structures.detection_classes.DET_CATEGORIES` (1 right hand, 2 left hand,
  ``2 + YCB id`` objects; supercategory ``"hand"`` or ``"object"``);
* ``images``: ``{"id", "file_name" (the image path as the dataset gave it), "frame_key"
  (the dataset's frame name, e.g. ``"SM3/0000"``), "width", "height"}``, one per scored image,
  also those without any detection;
* ``annotations``: one per detection, ``{"id", "image_id", "category_id", "bbox" ([x, y, w, h],
  pixels of the original image), "area", "score"}``.
"""
import json
import math
import os
import os.path as osp
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np
from mmengine.logging import print_log

from mmhandobj.structures.detection_classes import DET_CATEGORIES, is_hand_category

FORMAT_NAME = 'mmhandobj-detections'
FORMAT_VERSION = 1


def detection_categories() -> List[dict]:
    """The ``categories`` list of a detection file."""
    return [dict(id=cid, name=name, supercategory='hand' if is_hand_category(cid) else 'object')
            for cid, name in DET_CATEGORIES.items()]


def save_detection_file(path: str, images: Sequence[dict], detections: Sequence[dict]) -> None:
    """Write a detection file (atomically: a temporary file renamed into place).

    Args:
        path: Output ``.json`` file.
        images: ``{"id", "file_name", "frame_key", "width", "height"}`` per image.
        detections: ``{"image_id", "category_id", "bbox" (x1y1x2y2 pixels), "score"}`` each.
    """
    annotations = []
    for k, det in enumerate(detections, start=1):
        x1, y1, x2, y2 = (float(v) for v in det['bbox'])
        annotations.append(dict(id=k, image_id=int(det['image_id']),
                                category_id=int(det['category_id']),
                                bbox=[x1, y1, x2 - x1, y2 - y1], area=(x2 - x1) * (y2 - y1),
                                score=float(det['score'])))
    data = dict(info=dict(format=FORMAT_NAME, version=FORMAT_VERSION,
                          bbox='x y w h, pixels of the original image'),
                categories=detection_categories(), images=list(images), annotations=annotations)
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f)
    os.replace(tmp, path)


#: Largest box coordinate accepted (pixels); beyond it a box is no detection of an image.
MAX_BOX_COORD_PX = 1e5
#: Parsed detection files of this process: (real path, mtime ns, size) -> per-key detections.
_PARSED: Dict[Tuple[str, int, int], Dict[str, List[dict]]] = {}


def _number(value: Any, path: str, where: str, field: str) -> float:
    """``value`` as a finite float; bools, strings and the like are refused naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f'{path}: {where} field {field!r} is {value!r}, expected a number')
    if not math.isfinite(value) or abs(value) > MAX_BOX_COORD_PX:
        raise ValueError(f'{path}: {where} field {field!r} is {value!r}, expected a finite '
                         f'number within +-{MAX_BOX_COORD_PX:g}')
    return float(value)


def _parse(path: str, data: Any) -> Dict[str, List[dict]]:
    """Validate a loaded detection file and group its detections per image key."""
    for key in ('images', 'annotations'):
        if not isinstance(data, dict) or not isinstance(data.get(key), list):
            raise ValueError(f'{path}: a detection file needs the COCO keys "images" and '
                             f'"annotations" as lists (missing {key!r}); write one with '
                             'tools/test.py DET_CONFIG DET_CKPT --out dets.json')
    per_image: Dict[int, List[dict]] = {}
    sizes: Dict[int, Tuple[float, float]] = {}
    for index, img in enumerate(data['images']):
        where = f'images[{index}]'
        if not isinstance(img, dict) or 'id' not in img:
            raise ValueError(f'{path}: {where} must be an object with an "id"')
        image_id = int(_number(img['id'], path, where, 'id'))
        per_image[image_id] = []
        if 'width' in img and 'height' in img:
            sizes[image_id] = (_number(img['width'], path, where, 'width'),
                               _number(img['height'], path, where, 'height'))
    skipped = dict(unknown_category=0, empty_box=0, off_image=0)
    for index, ann in enumerate(data['annotations']):
        where = f'annotations[{index}]'
        if not isinstance(ann, dict):
            raise ValueError(f'{path}: {where} must be an object, got {type(ann).__name__}')
        missing = [k for k in ('image_id', 'category_id', 'bbox', 'score') if k not in ann]
        if missing:
            raise ValueError(f'{path}: {where} lacks the field(s) {missing}')
        bbox = ann['bbox']
        if not isinstance(bbox, list) or len(bbox) != 4:
            raise ValueError(f'{path}: {where} field \'bbox\' is {bbox!r}, expected [x, y, w, '
                             'h] in pixels')
        x, y, w, h = (_number(v, path, where, 'bbox') for v in bbox)
        score = _number(ann['score'], path, where, 'score')
        image_id = int(_number(ann['image_id'], path, where, 'image_id'))
        category = _number(ann['category_id'], path, where, 'category_id')
        if image_id not in per_image:
            raise ValueError(f'{path}: {where} names image_id {image_id}, which is not in '
                             '"images"')
        if category not in DET_CATEGORIES:
            skipped['unknown_category'] += 1
            continue
        if w <= 0 or h <= 0:
            skipped['empty_box'] += 1
            continue
        width, height = sizes.get(image_id, (math.inf, math.inf))
        if x >= width or y >= height or x + w <= 0 or y + h <= 0:
            skipped['off_image'] += 1
            continue
        per_image[image_id].append(dict(bbox=np.array([x, y, x + w, y + h], np.float64),
                                        score=score, category_id=int(category)))
    if any(skipped.values()):
        print_log(f'{path}: skipped detections: {skipped} (known categories: '
                  f'{sorted(DET_CATEGORIES)})', logger='current', level=30)
    by_key: Dict[str, List[dict]] = {}
    for img in data['images']:
        dets = sorted(per_image[int(img['id'])], key=lambda d: -d['score'])
        for key in (img.get('frame_key'), img.get('file_name')):
            if key:
                by_key[str(key)] = dets
    return by_key


def load_detection_file(path: str) -> Dict[str, List[dict]]:
    """Read a detection file into per-image detections, keyed by frame key and file name.

    A file is parsed once per process (cached by path, modification time and size); the
    cache filled in the main process is shared by forked data-loader workers.

    Args:
        path: A file written by :func:`save_detection_file`.

    Returns:
        ``{key: [{"bbox": (4,) float64 x1y1x2y2 pixels, "score": float, "category_id": int},
        ...]}`` sorted by decreasing score, for each image's ``frame_key`` and ``file_name``
        (an image without detections maps to an empty list). Detections of unknown
        categories, with zero/negative width or height, or outside their image are skipped
        with a logged count.

    Raises:
        FileNotFoundError: Missing file.
        ValueError: Not a detection file: a missing key or field, a non-numeric or
            non-finite value, a coordinate beyond :data:`MAX_BOX_COORD_PX`, an unknown
            ``image_id``, or nesting too deep (the message names the file and the entry).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'detection file not found: {path} (write one with '
                                'tools/test.py DET_CONFIG DET_CKPT --out dets.json)')
    stat = os.stat(path)
    key = (osp.realpath(path), stat.st_mtime_ns, stat.st_size)
    if key not in _PARSED:
        with open(path) as f:
            try:
                data = json.load(f)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}: not a JSON detection file ({err})') from None
            except RecursionError:
                raise ValueError(f'{path}: not a detection file (nested too deeply)') from None
        _PARSED.clear()  # one file per process in practice: do not keep stale versions
        _PARSED[key] = _parse(path, data)
    return _PARSED[key]
