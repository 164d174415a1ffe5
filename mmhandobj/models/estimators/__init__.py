from .hflnet import HFLNet, crop_to_image, normalise_to_box
from .semi_hand_object import SemiHandObject

__all__ = ['HFLNet', 'SemiHandObject', 'crop_to_image', 'normalise_to_box']
