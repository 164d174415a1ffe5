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
import os
import os.path as osp
from typing import Dict, List, Sequence

import numpy as np

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


def load_detection_file(path: str) -> Dict[str, List[dict]]:
    """Read a detection file into per-image detections, keyed by frame key and file name.

    Args:
        path: A file written by :func:`save_detection_file`.

    Returns:
        ``{key: [{"bbox": (4,) float64 x1y1x2y2 pixels, "score": float, "category_id": int},
        ...]}`` sorted by decreasing score, for each image's ``frame_key`` and ``file_name``
        (an image without detections maps to an empty list).

    Raises:
        FileNotFoundError: Missing file.
        ValueError: Not a detection file (names the missing key).
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'detection file not found: {path} (write one with '
                                'tools/test.py DET_CONFIG DET_CKPT --out dets.json)')
    with open(path) as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as err:
            raise ValueError(f'{path}: not a JSON detection file ({err})') from None
    for key in ('images', 'annotations'):
        if not isinstance(data, dict) or key not in data:
            raise ValueError(f'{path}: a detection file needs the COCO keys "images" and '
                             f'"annotations" (missing {key!r}); write one with tools/test.py '
                             'DET_CONFIG DET_CKPT --out dets.json')
    per_image: Dict[int, List[dict]] = {int(img['id']): [] for img in data['images']}
    for ann in data['annotations']:
        x, y, w, h = ann['bbox']
        if ann['image_id'] not in per_image:
            raise ValueError(f'{path}: detection {ann.get("id")} names image_id '
                             f'{ann["image_id"]}, which is not in "images"')
        per_image[ann['image_id']].append(dict(
            bbox=np.array([x, y, x + w, y + h], np.float64), score=float(ann['score']),
            category_id=int(ann['category_id'])))
    by_key: Dict[str, List[dict]] = {}
    for img in data['images']:
        dets = sorted(per_image[int(img['id'])], key=lambda d: -d['score'])
        for key in (img.get('frame_key'), img.get('file_name')):
            if key:
                by_key[str(key)] = dets
    return by_key
