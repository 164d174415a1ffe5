"""Register all mmhandobj modules and set the default scope (for use outside the Runner)."""
from mmengine.registry import init_default_scope


def register_all_modules(init_scope: bool = True) -> None:
    """Import every module that registers classes, and make ``mmhandobj`` the default scope.

    Args:
        init_scope: Whether to set ``mmhandobj`` as the current default scope.
    """
    import mmhandobj.datasets  # noqa: F401
    import mmhandobj.engine  # noqa: F401
    import mmhandobj.evaluation  # noqa: F401
    import mmhandobj.models  # noqa: F401
    import mmhandobj.visualization  # noqa: F401
    if init_scope:
        init_default_scope('mmhandobj')
