from .hfl_resnet import HFLResNet

__all__ = ['HFLResNet']
