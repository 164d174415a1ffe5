"""The hand/object detector's class table: right hand, left hand, then every YCB object.

Category ids are 1-based and shared by the detector's labels (torchvision's detection models
reserve label 0 for the background), the COCO-style detection files and the box metric:
``1`` = right hand, ``2`` = left hand, ``2 + k`` = the YCB object of class id ``k`` in
:data:`~mmhandobj.structures.object_classes.YCB_CLASSES` (DexYCB's ``_YCB_CLASSES``, 1..21), so a
detected object names the model (``<obj_model_root>/<name>/points.xyz``) to solve its pose with.
"""
from typing import Dict, Tuple

from .object_classes import YCB_CLASSES

#: Category id of a right / left hand.
RIGHT_HAND_ID = 1
LEFT_HAND_ID = 2
#: Category ids of the two hand classes, by hand side.
HAND_CATEGORY_IDS: Dict[str, int] = {'right': RIGHT_HAND_ID, 'left': LEFT_HAND_ID}
#: Offset from a YCB class id to its category id.
_YCB_OFFSET = LEFT_HAND_ID
#: Category id -> class name ('right_hand', 'left_hand', then the YCB names).
DET_CATEGORIES: Dict[int, str] = {
    RIGHT_HAND_ID: 'right_hand', LEFT_HAND_ID: 'left_hand',
    **{cls + _YCB_OFFSET: name for cls, name in YCB_CLASSES.items()}}
#: Class name -> category id.
DET_CATEGORY_IDS: Dict[str, int] = {name: cid for cid, name in DET_CATEGORIES.items()}
#: Number of classes of a torchvision detection model, background (label 0) included.
NUM_DET_CLASSES = len(DET_CATEGORIES) + 1


def is_hand_category(category_id: int) -> bool:
    """True for the right- and left-hand categories."""
    return int(category_id) in (RIGHT_HAND_ID, LEFT_HAND_ID)


def object_category_id(obj_name: str) -> int:
    """Category id of a YCB object name.

    Raises:
        KeyError: For a name outside the YCB table, listing the known names.
    """
    if obj_name not in DET_CATEGORY_IDS or is_hand_category(DET_CATEGORY_IDS[obj_name]):
        raise KeyError(f'unknown object class {obj_name!r}: the detector knows the YCB objects '
                       f'{sorted(YCB_CLASSES.values())}')
    return DET_CATEGORY_IDS[obj_name]


def category_side_or_name(category_id: int) -> Tuple[str, str]:
    """``('hand', 'right'|'left')`` or ``('object', <YCB name>)`` of a category id.

    Raises:
        KeyError: For an id outside the table.
    """
    category_id = int(category_id)
    if category_id not in DET_CATEGORIES:
        raise KeyError(f'unknown detector category id {category_id}: expected 1..'
                       f'{len(DET_CATEGORIES)} (1 right hand, 2 left hand, 3.. YCB objects)')
    if category_id == RIGHT_HAND_ID:
        return 'hand', 'right'
    if category_id == LEFT_HAND_ID:
        return 'hand', 'left'
    return 'object', DET_CATEGORIES[category_id]
