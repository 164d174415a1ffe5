"""Scripts of the repository (``tools/``, ``demo/``) imported as modules, for the tests that
call their functions directly."""
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Optional

#: The repository root.
REPO = Path(__file__).parents[1]


def load_script(relative_path: str, name: Optional[str] = None) -> ModuleType:
    """``<repo>/<relative_path>`` executed as a new module (not put in ``sys.modules``).

    Args:
        relative_path: The script's path from the repository root, e.g.
            ``'tools/analysis_tools/plot_curves.py'``.
        name: The module's ``__name__`` (default: the file's stem).
    """
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
