"""mmhandobj: joint 3D hand and object pose estimation on MMEngine.

Importing the package registers a safe local checkpoint loader with MMEngine (see
:mod:`mmhandobj.utils.checkpoint`), so ``resume`` works under torch >= 2.6.
"""
from . import utils  # noqa: F401  (registers the checkpoint loader)
from .version import __version__

__all__ = ['__version__']
