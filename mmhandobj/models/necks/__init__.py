from .dual_fpn import DualFPN, P2FPN

__all__ = ['DualFPN', 'P2FPN']
