from .hflnet import HFLNet

__all__ = ['HFLNet']
