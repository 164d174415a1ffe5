"""Run the hand/object detector on images: what the demos use when no boxes are given."""
from pathlib import Path
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from mmhandobj.datasets.transforms import pick_hand_and_object
from mmhandobj.structures.detection_classes import category_side_or_name

from .inference import init_model

#: Model type of the detector configs (``configs/det/``).
DETECTOR_TYPE = 'HandObjectDetector'
#: Default focal length, in units of the longer image side: ``f = max(W, H)`` (a horizontal
#: field of view of 53 degrees for a landscape image), principal point at the image centre.
DEFAULT_FOCAL_PER_SIDE = 1.0


def init_detector(config: Union[str, Path, Config], checkpoint: Optional[str] = None,
                  device: str = 'cpu') -> nn.Module:
    """Build the hand/object detector of a ``configs/det/`` config and load its checkpoint.

    Raises:
        ValueError: When the config is not a detector config (e.g. an HFL-Net config).
    """
    cfg = Config.fromfile(str(config)) if isinstance(config, (str, Path)) else config
    model_type = str(cfg.get('model', {}).get('type', ''))
    if not model_type.endswith(DETECTOR_TYPE):
        raise ValueError(f'{getattr(cfg, "filename", config)} is not a detector config: its '
                         f'model is {model_type!r}, expected {DETECTOR_TYPE!r} (see configs/det/)')
    return init_model(cfg, checkpoint, device=device)


def default_intrinsics(width: int, height: int) -> np.ndarray:
    """``(fx, fy, cx, cy)`` used when the camera is unknown (pixels).

    ``fx = fy = DEFAULT_FOCAL_PER_SIDE * max(W, H)``, ``(cx, cy) = ((W - 1) / 2, (H - 1) / 2)``.
    The object's estimated distance scales with the assumed focal length.
    """
    focal = DEFAULT_FOCAL_PER_SIDE * max(width, height)
    return np.array([focal, focal, (width - 1) / 2, (height - 1) / 2], np.float64)


def detect_hand_object(detector: nn.Module, imgs: Sequence[np.ndarray]) -> List[List[dict]]:
    """Detections of a batch of images.

    Args:
        detector: From :func:`init_detector`.
        imgs: ``(H, W, 3)`` uint8 BGR images.

    Returns:
        Per image, ``{"bbox" ((4,) x1y1x2y2 pixels), "score", "category_id"}`` best first.
    """
    if not imgs:
        return []
    inputs = [torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1))) for img in imgs]
    with torch.no_grad():
        data = detector.data_preprocessor(dict(inputs=inputs, data_samples=None), False)
        samples = detector(data['inputs'], None, mode='predict')
    out = []
    for sample in samples:
        pred = sample.pred_instances
        out.append([dict(bbox=box.numpy().astype(np.float64), score=float(score),
                         category_id=int(label))
                    for box, score, label in zip(pred.bboxes, pred.scores, pred.labels)])
    return out


def choose_boxes(dets: List[dict], score_thr: float, obj_selection: str
                 ) -> Tuple[Optional[dict], Optional[dict], Optional[str], Optional[str]]:
    """The hand and object detections to use, with the hand side and the object name.

    Returns:
        ``(hand, object, hand_side, obj_name)``; None where nothing scores ``score_thr``.
    """
    hand, obj = pick_hand_and_object(dets, score_thr, obj_selection)
    side = category_side_or_name(hand['category_id'])[1] if hand is not None else None
    name = category_side_or_name(obj['category_id'])[1] if obj is not None else None
    return hand, obj, side, name
