"""Restricted unpickling for data files downloaded from the internet (MANO models, HO3D metas).

A plain ``pickle.load`` runs whatever callable a file names, so a crafted dataset file could run
a shell command. :class:`RestrictedUnpickler` resolves only numpy arrays/scalars and plain
Python types; anything else is refused with an error naming the file and the global.
"""
import pickle
from typing import IO, Any, FrozenSet, Tuple

#: Globals that pickles of numpy arrays, numpy scalars and plain types reference (module, name);
#: Python 2 pickles (``copy_reg``, ``__builtin__``) included.
SAFE_NUMPY_GLOBALS: FrozenSet[Tuple[str, str]] = frozenset({
    ('numpy.core.multiarray', '_reconstruct'),
    ('numpy._core.multiarray', '_reconstruct'),
    ('numpy.core.multiarray', 'scalar'),
    ('numpy._core.multiarray', 'scalar'),
    ('numpy', 'ndarray'),
    ('numpy', 'dtype'),
    ('copy_reg', '_reconstructor'),
    ('copyreg', '_reconstructor'),
    ('__builtin__', 'object'),
    ('builtins', 'object'),
    ('__builtin__', 'set'),
    ('builtins', 'set'),
    ('_codecs', 'encode'),
})


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler that resolves only :data:`SAFE_NUMPY_GLOBALS` (latin1 for Python 2 files).

    Subclasses extend :meth:`find_extra_class` (e.g. inert stand-ins for chumpy objects).

    Args:
        file: Binary file object.
        filename: Path used in error messages.
        kind: What the file is, for error messages (e.g. ``'HO3D meta file'``).
        allowed: Description of what may be loaded, for error messages.
    """

    def __init__(self, file: IO[bytes], filename: str, kind: str = 'pickle file',
                 allowed: str = 'numpy arrays and plain Python values') -> None:
        super().__init__(file, encoding='latin1')
        self.filename = filename
        self.kind = kind
        self.allowed = allowed

    def find_extra_class(self, module: str, name: str) -> Any:
        """Return a stand-in for ``module.name``, or None to refuse it (subclass hook)."""
        return None

    def find_class(self, module: str, name: str) -> Any:
        extra = self.find_extra_class(module, name)
        if extra is not None:
            return extra
        if (module, name) in SAFE_NUMPY_GLOBALS:
            if module.startswith('numpy.core.'):
                import numpy as np
                if hasattr(np, '_core'):
                    # numpy >= 2 keeps the old path only as a deprecated alias of numpy._core
                    module = 'numpy._core.' + module[len('numpy.core.'):]
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'{self.kind} {self.filename}: refusing to load global {module}.{name} (only '
            f'{self.allowed} are allowed); the file may have been tampered with')
