"""Write MANO model arrays in the official ``MANO_{RIGHT,LEFT}.pkl`` layout (no chumpy needed).

The mirror of :mod:`.mano_loader`: the official files are protocol-2 pickles of a dict written
by Python 2, with ``shapedirs`` a ``chumpy.ch.Ch`` and ``J_regressor`` a
``scipy.sparse.csc.csc_matrix``. :func:`write_mano_file` writes those class references by
module and name without importing chumpy or scipy, so the loader's allow-list and conversions
are exercised on a file laid out as the real one (the procedural stand-in hand of
:mod:`mmhandobj.synthetic` is written with it). :class:`OfficialLayoutPickler`,
:class:`ClassRef` and :class:`PickledObject` also let tests write files holding other objects
the loader must convert or refuse.
"""
import copyreg
import pickle
from typing import Any, BinaryIO, Dict

import numpy as np

#: Root parent value stored in ``kintree_table`` by the official files (``uint32(-1)``).
KINTREE_ROOT = 4294967295


class ClassRef:
    """A class reference written into a pickle by module and name only.

    Args:
        module: Module path as the reader sees it, e.g. ``'chumpy.ch'``.
        name: Class name, e.g. ``'Ch'``.
    """

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name


class PickledObject:
    """An object pickled as ``copy_reg._reconstructor(cls, object, None)`` plus ``state``.

    Args:
        class_ref: The object's class.
        state: The ``__setstate__`` / ``__dict__`` content.
    """

    def __init__(self, class_ref: ClassRef, state: Dict[str, Any]) -> None:
        self.class_ref = class_ref
        self.state = state


class OfficialLayoutPickler(pickle._Pickler):
    """Pure-Python pickler that writes :class:`ClassRef` / :class:`PickledObject` (chumpy,
    scipy class references) without importing them, the way Python 2 pickled the official
    MANO files.

    Args:
        file: Binary file to write to.
        protocol: Pickle protocol (the official files use 2).
    """

    def __init__(self, file: BinaryIO, protocol: int = 2) -> None:
        super().__init__(file, protocol=protocol)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, ClassRef):
            return obj.name
        if isinstance(obj, PickledObject):
            return copyreg._reconstructor, (obj.class_ref, object, None), obj.state
        return NotImplemented

    def save_global(self, obj: Any, name: Any = None) -> None:
        if not isinstance(obj, ClassRef):
            super().save_global(obj, name)
            return
        self.write(pickle.GLOBAL + f'{obj.module}\n{obj.name}\n'.encode('ascii'))
        self.memoize(obj)


def csc_state(dense: np.ndarray) -> Dict[str, Any]:
    """The pickled state of a ``scipy.sparse.csc_matrix`` holding ``dense`` ``(R, C)``."""
    data, indices, indptr = [], [], [0]
    for column in dense.T:
        rows = np.flatnonzero(column)
        data.append(column[rows])
        indices.append(rows)
        indptr.append(indptr[-1] + len(rows))
    return {'_shape': dense.shape, 'maxprint': 50,
            'data': np.concatenate(data), 'indices': np.concatenate(indices).astype(np.int32),
            'indptr': np.array(indptr, dtype=np.int32)}


def write_mano_file(path: str, arrays: Dict[str, Any]) -> None:
    """Write MANO arrays as a file laid out like the official ``MANO_{RIGHT,LEFT}.pkl``.

    Protocol-2 pickle of a dict: ``shapedirs`` is pickled as a ``chumpy.ch.Ch`` (value in
    ``state['x']``), ``J_regressor`` as a ``scipy.sparse.csc.csc_matrix``, ``f`` as uint32,
    the other values as given (float64 / int64 ndarrays, strings). Neither chumpy nor scipy is
    needed to write it or (with :func:`~.mano_loader.load_mano_model`) to read it.

    Args:
        path: Output file path.
        arrays: The model, with the keys and shapes of
            :data:`~.mano_loader.MANO_SHAPES` (as :func:`~.mano_loader.load_mano_model`
            returns them: ``shapedirs (778, 3, 10)``, dense ``J_regressor (16, 778)``,
            ``f (1538, 3)``, ...).
    """
    content = dict(arrays)
    content['f'] = arrays['f'].astype(np.uint32)
    content['shapedirs'] = PickledObject(ClassRef('chumpy.ch', 'Ch'),
                                         {'x': arrays['shapedirs'], '_dirty_vars': set()})
    content['J_regressor'] = PickledObject(ClassRef('scipy.sparse.csc', 'csc_matrix'),
                                           csc_state(arrays['J_regressor']))
    with open(path, 'wb') as f:
        OfficialLayoutPickler(f, protocol=2).dump(content)
