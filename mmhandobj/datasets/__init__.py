from .annotation_file import load_annotation_file, save_annotation_file
from .base_hand_object_dataset import HandObjectBaseDataset
from .dexycb import DexYCBDataset
from .ho3d import HO3DDataset
from .object_models import ObjectModelBank
from .transforms import *  # noqa: F401,F403
from .worker_seed import epoch_worker_init_fn

__all__ = [
    'DexYCBDataset', 'HO3DDataset', 'HandObjectBaseDataset', 'ObjectModelBank',
    'epoch_worker_init_fn',
    'load_annotation_file', 'save_annotation_file'
]
