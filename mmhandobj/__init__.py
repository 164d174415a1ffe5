"""mmhandobj: joint 3D hand and object pose estimation on MMEngine.

Importing the package changes nothing in MMEngine; the tools and :func:`mmhandobj.apis.init_model`
call :func:`mmhandobj.utils.apply_mmengine_patches` (safe checkpoint loading under torch >= 2.6,
atomic checkpoint writes).
"""
from .version import __version__

__all__ = ['__version__']
