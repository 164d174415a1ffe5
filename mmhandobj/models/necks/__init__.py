from .dual_fpn import P2FPN, DualFPN

__all__ = ['DualFPN', 'P2FPN']
