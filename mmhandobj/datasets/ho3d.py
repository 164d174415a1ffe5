"""HO-3D (v2/v3) dataset."""
from typing import Any, Dict, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from mmhandobj.registry import DATASETS

from .base_hand_object_dataset import HandObjectBaseDataset
from .converters.ho3d import HO3D_VERSIONS

HO3D_DATASET_SPLITS = ('train', 'val', 'evaluation')


@DATASETS.register_module()
class HO3DDataset(HandObjectBaseDataset):
    """HO-3D v2/v3: right hands grasping one YCB object.

    Reads the annotation file written by ``tools/dataset_converters/ho3d.py`` (OpenGL already
    converted to OpenCV there). Splits:

    * ``'train'``: the official train split minus ``val_sequences``;
    * ``'val'``: only the train sequences in ``val_sequences`` (full GT, for local scoring);
    * ``'evaluation'``: the official evaluation split, in ``evaluation.txt`` order (the
      server's order). Only the wrist and ``handBoundingBox`` are known; the test crop uses
      the box corners as hand points.

    Args:
        data_root: HO3D root (``train/``, ``evaluation/``, ``annotations/``).
        version: ``'v2'`` or ``'v3'``.
        split: ``'train'``, ``'val'`` or ``'evaluation'``.
        val_sequences: Train sequences held out as the ``'val'`` split.
        ann_file: Annotation file; default ``annotations/ho3d_<version>_<train|evaluation>.npz``.
        obj_model_root: Folder with ``<ycb name>/points.xyz``.
        **kwargs: See :class:`HandObjectBaseDataset`.
    """

    DATASET_NAME = 'ho3d'

    def __init__(self,
                 data_root: str = 'data/ho3d',
                 version: str = 'v2',
                 split: str = 'train',
                 val_sequences: Sequence[str] = (),
                 ann_file: Optional[str] = None,
                 obj_model_root: str = 'models',
                 **kwargs) -> None:
        if version not in HO3D_VERSIONS:
            raise ValueError(f'unknown HO3D version {version!r}; expected one of {HO3D_VERSIONS}')
        if split not in HO3D_DATASET_SPLITS:
            raise ValueError(f'unknown HO3D split {split!r}; expected one of '
                             f'{HO3D_DATASET_SPLITS}')
        if split == 'val' and not val_sequences:
            raise ValueError("HO3D split 'val' needs val_sequences (train sequences to hold out)")
        self.version = version
        self.split = split
        self.val_sequences = tuple(val_sequences)
        self.source_split = 'evaluation' if split == 'evaluation' else 'train'
        if ann_file is None:
            ann_file = f'annotations/ho3d_{version}_{self.source_split}.npz'
        super().__init__(ann_file=ann_file, obj_model_root=obj_model_root,
                         data_root=data_root, **kwargs)

    def select_frames(self, columns: Dict[str, np.ndarray], meta: Dict[str, Any]) -> np.ndarray:
        """Keep the frames of ``split`` (train minus / only ``val_sequences``)."""
        if meta.get('dataset') != 'ho3d' or meta.get('split') != self.source_split:
            raise ValueError(f'{self.ann_file}: holds {meta.get("dataset")}/{meta.get("split")}, '
                             f'expected ho3d/{self.source_split} for split {self.split!r}')
        if meta.get('version') != self.version:
            print_log(f'{self.ann_file}: version {meta.get("version")} but dataset version '
                      f'{self.version}', logger='current', level=30)
        if self.source_split == 'evaluation':
            return np.ones(len(columns['sequence']), bool)
        sequences = np.char.decode(columns['sequence'], 'utf-8')
        missing = sorted(set(self.val_sequences) - set(sequences.tolist()))
        if missing:
            raise ValueError(f'{self.ann_file}: val_sequences {missing} not in the train split')
        in_val = np.isin(sequences, list(self.val_sequences))
        return in_val if self.split == 'val' else ~in_val
