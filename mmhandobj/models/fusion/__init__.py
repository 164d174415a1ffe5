from .attention_block import AttentionBlock, Mlp
from .cbam import CBAM
from .hand_object_fusion import HandToObjectFusion, ObjectToHandFusion

__all__ = ['AttentionBlock', 'Mlp', 'CBAM', 'HandToObjectFusion', 'ObjectToHandFusion']
