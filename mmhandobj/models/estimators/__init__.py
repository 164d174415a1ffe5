from .hflnet import HFLNet
from .semi_hand_object import SemiHandObject

__all__ = ['HFLNet', 'SemiHandObject']
