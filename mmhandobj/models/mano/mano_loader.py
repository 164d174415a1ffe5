"""Chumpy-free reader of MANO model files.

The official ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` are Python-2 pickles of a dict whose
``shapedirs`` (and possibly other entries) are ``chumpy.ch.Ch`` objects and whose
``J_regressor`` is a ``scipy.sparse`` CSC matrix. :class:`MANOUnpickler` rebuilds them with inert
stand-in classes (numpy only) and refuses every global that is not on a short allow-list, so
neither chumpy nor scipy is needed and a tampered file cannot run code.

Chumpy-free conversions are read too: a ``.pkl`` of plain numpy arrays, or an ``.npz``.
"""
import os
import pickle
import zipfile
from typing import Any, Dict, Tuple

import numpy as np

from mmhandobj.utils.safe_pickle import RestrictedUnpickler

#: Expected array shapes of a MANO model, by key (``hands_coeffs`` and ``J`` are optional).
MANO_SHAPES: Dict[str, Tuple[int, ...]] = {
    'v_template': (778, 3),
    'shapedirs': (778, 3, 10),
    'posedirs': (778, 3, 135),
    'J_regressor': (16, 778),
    'weights': (778, 16),
    'f': (1538, 3),
    'kintree_table': (2, 16),
    'hands_components': (45, 45),
    'hands_mean': (45,),
}


class MANOFileError(ValueError):
    """A MANO model file is missing, unreadable or does not hold the expected arrays."""


class _ChumpyStub:
    """Inert replacement for any ``chumpy`` class: keeps the pickled state as attributes.

    A plain ``Ch`` stores its value in ``x``; a ``reordering.Select`` stores its source in
    ``a`` and the flat indices in ``idxs``. Other chumpy expressions cannot be evaluated.
    """

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def to_array(self) -> np.ndarray:
        """Return the numeric value of the chumpy object.

        Raises:
            ValueError: The object is a chumpy expression with no stored value.
        """
        state = self.__dict__
        if 'x' in state:
            return np.asarray(_to_array(state['x']))
        if 'a' in state and 'idxs' in state:
            value = np.asarray(_to_array(state['a'])).ravel()[np.asarray(state['idxs'])]
            shape = state.get('preferred_shape')
            return value.reshape(shape) if shape is not None else value
        raise ValueError('a chumpy expression without a stored value (no "x" and no '
                         f'"a"/"idxs" entries; state keys: {sorted(state)})')


class _SparseStub:
    """Inert replacement for ``scipy.sparse`` CSC/CSR matrices (densified with numpy)."""

    compressed_axis = 1

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self.__dict__.update(state)

    def to_array(self) -> np.ndarray:
        """Densify from ``data``, ``indices``, ``indptr`` and ``_shape``."""
        state = self.__dict__
        shape = tuple(int(s) for s in state.get('_shape', state.get('shape', ())))
        if len(shape) != 2 or not {'data', 'indices', 'indptr'} <= state.keys():
            raise ValueError('a scipy.sparse matrix without data/indices/indptr/_shape '
                             f'(state keys: {sorted(state)})')
        data = np.asarray(state['data'])
        indices = np.asarray(state['indices'], dtype=np.int64)
        indptr = np.asarray(state['indptr'], dtype=np.int64)
        dense = np.zeros(shape, dtype=data.dtype)
        major = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
        if self.compressed_axis == 1:
            np.add.at(dense, (indices, major), data)
        else:
            np.add.at(dense, (major, indices), data)
        return dense


class _CsrStub(_SparseStub):
    """Inert replacement for ``scipy.sparse`` CSR matrices (rows are compressed)."""

    compressed_axis = 0


#: Tolerance of the skinning weights' row sums (each vertex's weights sum to 1).
WEIGHT_SUM_TOL = 1e-4

def _to_array(value: Any) -> Any:
    """Turn stub objects into numpy arrays; leave other values unchanged."""
    if isinstance(value, (_ChumpyStub, _SparseStub)):
        return value.to_array()
    return value


class MANOUnpickler(RestrictedUnpickler):
    """Restricted unpickler for MANO files (no chumpy, no scipy, no arbitrary globals).

    Args:
        file: Binary file object.
        filename: Path used in error messages.
    """

    def __init__(self, file: Any, filename: str) -> None:
        super().__init__(file, filename, kind='MANO file',
                         allowed='numpy arrays, chumpy.* and scipy.sparse csc/csr matrices')

    def find_extra_class(self, module: str, name: str) -> Any:
        if module == 'chumpy' or module.startswith('chumpy.'):
            return _ChumpyStub
        if module == 'scipy.sparse' or module.startswith('scipy.sparse.'):
            return {'csc_matrix': _SparseStub, 'csr_matrix': _CsrStub}.get(name)
        return None


def _read_raw(path: str) -> Dict[str, Any]:
    """Read the file into a dict of possibly non-numpy values."""
    if not os.path.isfile(path):
        raise MANOFileError(f'MANO file {path}: not found. Download MANO_RIGHT.pkl and '
                            'MANO_LEFT.pkl from https://mano.is.tue.mpg.de (licence forbids '
                            'redistribution), or build a stand-in with '
                            'tools/misc/make_standin_mano.py')
    try:
        if path.endswith('.npz'):
            with np.load(path, allow_pickle=False) as npz:
                return {key: npz[key] for key in npz.files}
        with open(path, 'rb') as f:
            raw = MANOUnpickler(f, path).load()
    except pickle.UnpicklingError as err:
        if 'refusing to load global' in str(err):
            raise
        raise MANOFileError(f'MANO file {path}: corrupt or truncated pickle ({err})') from err
    except (EOFError, zipfile.BadZipFile, ValueError, OSError, KeyError, IndexError,
            TypeError, AttributeError) as err:
        raise MANOFileError(f'MANO file {path}: cannot be read as a MANO pickle or npz '
                            f'({type(err).__name__}: {err})') from err
    if not isinstance(raw, dict):
        raise MANOFileError(f'MANO file {path}: expected a pickled dict, got '
                            f'{type(raw).__name__}')
    return raw


def load_mano_model(path: str) -> Dict[str, np.ndarray]:
    """Load a MANO model file into numpy arrays.

    Accepts the official chumpy pickles, pickles of plain numpy arrays and ``.npz`` files.

    Args:
        path: Path to ``MANO_RIGHT.pkl`` / ``MANO_LEFT.pkl`` (or an ``.npz`` conversion).

    Returns:
        Dict with the keys of :data:`MANO_SHAPES` (plus ``J`` and ``hands_coeffs`` when the
        file has them): float arrays as ``float64`` (metres for ``v_template``/``shapedirs``/
        ``posedirs``), ``f`` as ``int64`` vertex ids, ``kintree_table`` as ``int64`` (root
        parent stored as 4294967295, as in the official file). Strings ``bs_style`` and
        ``bs_type`` are passed through when present.

    Raises:
        MANOFileError: Missing, truncated or corrupt file, a missing key / wrong shape, or
            NaN/inf values (the message names the file, the key and the expected shape).
        pickle.UnpicklingError: The pickle references a global outside the allow-list.
    """
    raw = _read_raw(path)
    model: Dict[str, Any] = {}
    for key, value in raw.items():
        key = key.decode('latin1') if isinstance(key, bytes) else key
        if key in ('bs_style', 'bs_type'):
            model[key] = value.decode('latin1') if isinstance(value, bytes) else str(value)
            continue
        try:
            model[key] = _to_array(value)
        except ValueError as err:
            if key in MANO_SHAPES:
                raise MANOFileError(f'MANO file {path}: key {key!r}: {err}') from err
    for key, shape in MANO_SHAPES.items():
        if key not in model:
            raise MANOFileError(f'MANO file {path}: missing key {key!r} (expected an array of '
                                f'shape {shape}); found keys {sorted(model)}')
        array = np.asarray(model[key])
        if array.shape != shape:
            raise MANOFileError(f'MANO file {path}: key {key!r} has shape {array.shape}, '
                                f'expected {shape}')
        if not np.issubdtype(array.dtype, np.number):
            raise MANOFileError(f'MANO file {path}: key {key!r} has dtype {array.dtype}, '
                                'expected a numeric array')
        if not np.isfinite(array).all():
            raise MANOFileError(f'MANO file {path}: key {key!r} holds '
                                f'{int((~np.isfinite(array)).sum())} NaN/inf values; the file '
                                'is corrupt (download it again)')
    out: Dict[str, Any] = {}
    for key, value in model.items():
        if key in ('bs_style', 'bs_type'):
            out[key] = value
        elif key in ('f', 'kintree_table'):
            out[key] = np.asarray(value).astype(np.int64)
        elif isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
            out[key] = value.astype(np.float64)
    sums = out['weights'].sum(axis=1)
    off = np.flatnonzero(np.abs(sums - 1) > WEIGHT_SUM_TOL)
    if len(off) or (out['weights'] < -WEIGHT_SUM_TOL).any():
        raise MANOFileError(f'MANO file {path}: key \'weights\' (skinning weights, 778 x 16) '
                            f'must be non-negative with rows summing to 1; {len(off)} rows sum '
                            f'elsewhere (first: vertex {off[:1].tolist()}, sums '
                            f'{sums[off[:3]].round(4).tolist()}); the file is corrupt')
    f = out['f']
    if f.min() < 0 or f.max() >= 778:
        raise MANOFileError(f'MANO file {path}: key \'f\' holds vertex ids in '
                            f'[{f.min()}, {f.max()}], expected ids in [0, 777]')
    return out
