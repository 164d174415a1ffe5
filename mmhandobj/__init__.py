"""mmhandobj: joint 3D hand and object pose estimation on MMEngine."""
from .version import __version__

__all__ = ['__version__']
