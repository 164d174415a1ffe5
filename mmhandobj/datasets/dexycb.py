"""DexYCB dataset."""
from typing import Any, Dict, Optional

import numpy as np
from mmengine.logging import print_log

from mmhandobj.registry import DATASETS

from .base_hand_object_dataset import HandObjectBaseDataset
from .converters.dexycb import DEXYCB_SETUPS, DEXYCB_SPLITS


def handoccnet_box_valid(joints2d: np.ndarray, width: int, height: int,
                         expand: float = 1.5) -> np.ndarray:
    """The HandOccNet / HFL-Net train filter on the 2D joints (docs/reference_parity.md R25).

    The box of the joints, expanded ``expand`` times about its centre, is clipped as
    HandOccNet's ``process_bbox``; a frame is dropped when w*h <= 0, x2 < x1 or y2 < y1.

    Args:
        joints2d: ``(N, 21, 2)`` pixels (NaN rows count as invalid).
        width: Image width (px).
        height: Image height (px).
        expand: Box expansion factor.

    Returns:
        ``(N,)`` bool, True where the frame is kept.
    """
    with np.errstate(invalid='ignore'):
        lo, hi = joints2d.min(1), joints2d.max(1)
        centre, size = (lo + hi) / 2, (hi - lo) * expand
        x, y = centre[:, 0] - size[:, 0] / 2, centre[:, 1] - size[:, 1] / 2
        w, h = size[:, 0], size[:, 1]
        x1, y1 = np.maximum(0, x), np.maximum(0, y)
        x2 = np.minimum(width - 1, x1 + np.maximum(0, w - 1))
        y2 = np.minimum(height - 1, y1 + np.maximum(0, h - 1))
        return (w * h > 0) & (x2 >= x1) & (y2 >= y1)


@DATASETS.register_module()
class DexYCBDataset(HandObjectBaseDataset):
    """DexYCB: one hand (left or right) grasping a YCB object, 8 cameras.

    Reads the annotation file written by ``tools/dataset_converters/dexycb.py``. Left hands
    are kept with their side (``hand_side``); ``CanonicalizeHandSide`` mirrors them. In
    training (``test_mode=False``) frames without a valid hand, without an object pose, or whose
    hand box fails the HandOccNet filter are dropped, as the reference does; at test time all
    frames are kept and the ones without a valid hand are counted in the log.

    Args:
        data_root: DexYCB root.
        setup: ``'s0'`` .. ``'s3'``.
        split: ``'train'``, ``'val'`` or ``'test'``.
        ann_file: Annotation file; default ``annotations/dexycb_<setup>_<split>.npz``.
        obj_model_root: Folder with ``<ycb name>/points.xyz``.
        **kwargs: See :class:`HandObjectBaseDataset`.
    """

    DATASET_NAME = 'dexycb'

    def __init__(self,
                 data_root: str = 'data/dexycb',
                 setup: str = 's0',
                 split: str = 'train',
                 ann_file: Optional[str] = None,
                 obj_model_root: str = 'models',
                 **kwargs) -> None:
        if setup not in DEXYCB_SETUPS:
            raise ValueError(f'unknown DexYCB setup {setup!r}; expected one of {DEXYCB_SETUPS}')
        if split not in DEXYCB_SPLITS:
            raise ValueError(f'unknown DexYCB split {split!r}; expected one of {DEXYCB_SPLITS}')
        self.setup = setup
        self.split = split
        if ann_file is None:
            ann_file = f'annotations/dexycb_{setup}_{split}.npz'
        super().__init__(ann_file=ann_file, obj_model_root=obj_model_root,
                         data_root=data_root, **kwargs)

    def select_frames(self, columns: Dict[str, np.ndarray], meta: Dict[str, Any]) -> np.ndarray:
        """Training: valid hand, object pose and hand box; test: every frame."""
        if meta.get('dataset') != 'dexycb' or (meta.get('setup'), meta.get('split')) != (
                self.setup, self.split):
            raise ValueError(
                f'{self.ann_file}: holds {meta.get("dataset")} {meta.get("setup")}/'
                f'{meta.get("split")}, expected dexycb {self.setup}/{self.split}')
        has_hand = columns['has_hand']
        if self.test_mode:
            print_log(f'DexYCB {self.setup}/{self.split}: {int((~has_hand).sum())} of '
                      f'{len(has_hand)} test frames have no valid hand (kept)', logger='current')
            return np.ones(len(has_hand), bool)
        width, height = meta['image_size']
        keep = has_hand & columns['has_obj'] & handoccnet_box_valid(
            columns['joints2d'], width, height)
        print_log(f'DexYCB {self.setup}/{self.split}: dropped {int((~has_hand).sum())} frames '
                  f'without a valid hand, {int((has_hand & ~keep).sum())} with no object pose '
                  f'or a degenerate hand box', logger='current')
        return keep
