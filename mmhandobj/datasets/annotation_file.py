"""The mmhandobj annotation file: one ``.npz`` of stacked per-frame arrays.

Written by ``tools/dataset_converters/{ho3d,dexycb}.py`` from the raw dataset layouts, read by
:class:`HO3DDataset` and :class:`DexYCBDataset`. Loading 66k frames takes well under a second
because every field is one stacked array (no per-frame Python objects), and the loaded columns
are shared by dataloader workers through fork without copy-on-read.

Layout (``N`` frames; all geometry in the OpenCV camera frame, metres; 2D in pixels of the
original, un-mirrored image; joints in the ``'simple'`` order):

=================  ==================  =========================================================
key                dtype, shape        meaning
=================  ==================  =========================================================
``__meta__``       str (0-d)           JSON: ``format``, ``format_version``, ``dataset``,
                                       ``version``/``setup``, ``split``, ``image_size`` (W, H),
                                       ``obj_names`` (list), ``mano_pose_offset`` (45 floats),
                                       ``mano_pose_flat`` (True: ``mano_pose`` is flat-hand-mean
                                       for its side; False: relative to the side's own
                                       ``hands_mean``), ``counts`` (converter statistics).
``img_path``       bytes (N,)          image path relative to the dataset root.
``sequence``       bytes (N,)          sequence name (HO3D ``SEQ``, DexYCB ``subject/seq``).
``frame_key``      bytes (N,)          HO3D ``SEQ/FID``; DexYCB ``subject/seq/serial/frame``.
``cam_intr``       float32 (N, 3, 3)   intrinsics K.
``is_left``        bool (N,)           real hand side is left.
``has_hand``       bool (N,)           hand GT present (3D and 2D joints; DexYCB: ``joint_3d``
                                       given, the frames its toolkit scores).
``joints2d``       float32 (N, 21, 2)  hand joints (NaN when ``has_hand`` is False).
``joints3d``       float32 (N, 21, 3)  hand joints (NaN when ``has_hand`` is False); the
                                       datasets pass it on as ``hand_joints3d_cam``.
``root_joint``     float32 (N, 3)      wrist (NaN when unknown).
``hand_box``       float32 (N, 4)      HO3D evaluation ``handBoundingBox`` x1y1x2y2 (else NaN).
``mano_pose``      float32 (N, 48)     axis-angle; the global orient is in the camera frame;
                                       the 45 finger values are relative to
                                       ``mano_pose_offset`` (flat = value + offset); all NaN
                                       for a hand without a MANO fit (DexYCB ``pose_m`` = 0).
``mano_shape``     float32 (N, 10)     MANO betas.
``has_obj``        bool (N,)           object pose present.
``obj_index``      int16 (N,)          index into ``obj_names``.
``obj_pose``       float32 (N, 3, 4)   object [R|t], model -> camera.
``mask_rle``       uint8 (M,)          concatenated COCO compressed RLE strings (pycocotools) of
                                       the object mask at full image size.
``mask_offsets``   int64 (N + 1,)      frame i's RLE is ``mask_rle[off[i]:off[i+1]]`` (empty =
                                       no mask).
=================  ==================  =========================================================
"""
import json
import os
import zipfile
from typing import Any, Dict, List, Sequence, Tuple

import numpy as np

ANNOTATION_FORMAT = 'mmhandobj-annotations'
ANNOTATION_FORMAT_VERSION = 1
#: Keys every ``__meta__`` holds.
REQUIRED_META = ('dataset', 'split', 'image_size', 'obj_names', 'mano_pose_offset',
                 'mano_pose_flat', 'num_frames')

#: Per-frame columns: name -> (dtype, trailing shape). String columns are ``bytes``.
COLUMNS: Dict[str, Tuple[Any, Tuple[int, ...]]] = {
    'img_path': (bytes, ()),
    'sequence': (bytes, ()),
    'frame_key': (bytes, ()),
    'cam_intr': (np.float32, (3, 3)),
    'is_left': (np.bool_, ()),
    'has_hand': (np.bool_, ()),
    'joints2d': (np.float32, (21, 2)),
    'joints3d': (np.float32, (21, 3)),
    'root_joint': (np.float32, (3,)),
    'hand_box': (np.float32, (4,)),
    'mano_pose': (np.float32, (48,)),
    'mano_shape': (np.float32, (10,)),
    'has_obj': (np.bool_, ()),
    'obj_index': (np.int16, ()),
    'obj_pose': (np.float32, (3, 4)),
}


#: COCO compressed RLE characters are ``48 + 6-bit value``.
_RLE_CHAR_OFFSET = 48
#: numpy dtype kind of each column type (ints may be signed or not).
_DTYPE_KINDS = {bytes: 'S', np.float32: 'f', np.bool_: 'b', np.int16: 'i'}


def empty_frame() -> Dict[str, Any]:
    """A frame record with every geometric field unknown (NaN) and no hand/object/mask."""
    record: Dict[str, Any] = {}
    for name, (dtype, shape) in COLUMNS.items():
        if dtype is bytes:
            record[name] = ''
        elif dtype is np.float32:
            record[name] = np.full(shape, np.nan, np.float32)
        else:
            record[name] = np.zeros(shape, dtype)
    record['mano_pose'] = np.zeros(48, np.float32)
    record['mano_shape'] = np.zeros(10, np.float32)
    record['mask_rle'] = b''
    return record


def save_annotation_file(path: str, frames: Sequence[Dict[str, Any]],
                         meta: Dict[str, Any]) -> None:
    """Stack per-frame records and write them as one uncompressed ``.npz``.

    Args:
        path: Output file (``.npz``); its folder is created. Written atomically.
        frames: Records with every key of :data:`COLUMNS` plus ``mask_rle`` (bytes, may be
            empty); start from :func:`empty_frame`.
        meta: JSON-serialisable metadata (``format`` keys are added here).
    """
    columns: Dict[str, np.ndarray] = {}
    for name, (dtype, shape) in COLUMNS.items():
        values = [frame[name] for frame in frames]
        if dtype is bytes:
            columns[name] = np.array([v.encode('utf-8') for v in values], dtype=bytes)
        else:
            columns[name] = np.asarray(values, dtype=dtype).reshape((len(frames), ) + shape)
    rles = [frame['mask_rle'] for frame in frames]
    columns['mask_offsets'] = np.concatenate(
        [[0], np.cumsum([len(r) for r in rles])]).astype(np.int64)
    columns['mask_rle'] = np.frombuffer(b''.join(rles), dtype=np.uint8)
    full_meta = dict(meta, format=ANNOTATION_FORMAT, format_version=ANNOTATION_FORMAT_VERSION,
                     num_frames=len(frames))
    columns['__meta__'] = np.array(json.dumps(full_meta))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}.npz'
    np.savez(tmp, **columns)
    os.replace(tmp, path)


def load_annotation_file(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, Any]]:
    """Read an annotation file written by :func:`save_annotation_file`.

    Args:
        path: The ``.npz`` file.

    Returns:
        ``(columns, meta)``: the per-frame arrays (plus ``mask_rle``/``mask_offsets``) and the
        metadata dict.

    Raises:
        FileNotFoundError: No such file.
        ValueError: A truncated/corrupt ``.npz``, unreadable ``__meta__`` JSON, a missing field,
            a wrong shape or dtype, mask offsets that do not index ``mask_rle``, or an
            ``obj_index`` outside ``obj_names``; the message names the file and the field.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f'annotation file not found: {path}. Create it with tools/dataset_converters/.')
    try:
        with np.load(path, allow_pickle=False) as npz:
            columns = {key: npz[key] for key in npz.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as err:
        raise ValueError(f'{path}: not a readable annotation .npz, truncated or corrupt '
                         f'({type(err).__name__}: {err}); re-run the converter') from err
    if '__meta__' not in columns:
        raise ValueError(f'{path}: missing field "__meta__"; not an mmhandobj annotation file')
    try:
        meta = json.loads(str(columns.pop('__meta__')))
    except json.JSONDecodeError as err:
        raise ValueError(f'{path}: field "__meta__" is not valid JSON ({err}); re-run the '
                         'converter') from err
    if not isinstance(meta, dict):
        raise ValueError(f'{path}: field "__meta__" must be a JSON object, got '
                         f'{type(meta).__name__}')
    if meta.get('format') != ANNOTATION_FORMAT:
        raise ValueError(f'{path}: field "__meta__.format" is {meta.get("format")!r}, '
                         f'expected {ANNOTATION_FORMAT!r}')
    if meta.get('format_version') != ANNOTATION_FORMAT_VERSION:
        raise ValueError(f'{path}: format_version {meta.get("format_version")} unsupported '
                         f'(expected {ANNOTATION_FORMAT_VERSION}); re-run the converter')
    for key in REQUIRED_META:
        if key not in meta:
            raise ValueError(f'{path}: missing field "__meta__.{key}"; re-run the converter')
    num = int(meta['num_frames'])
    for name, (dtype, shape) in COLUMNS.items():
        if name not in columns:
            raise ValueError(f'{path}: missing field {name!r}')
        if columns[name].shape != (num, ) + shape:
            raise ValueError(f'{path}: field {name!r} has shape {columns[name].shape}, '
                             f'expected {(num, ) + shape}')
        if columns[name].dtype.kind != _DTYPE_KINDS[dtype]:
            raise ValueError(f'{path}: field {name!r} has dtype {columns[name].dtype}, expected '
                             f'{np.dtype(dtype).name}')
    for name, kind in (('mask_rle', 'u'), ('mask_offsets', 'i')):
        if name not in columns:
            raise ValueError(f'{path}: missing field {name!r} (object masks); re-run the '
                             'converter')
        if columns[name].dtype.kind != kind or columns[name].ndim != 1:
            raise ValueError(f'{path}: field {name!r} has dtype {columns[name].dtype} and shape '
                             f'{columns[name].shape}, expected a 1-D {kind}int array')
    offsets = columns['mask_offsets']
    if offsets.shape != (num + 1, ):
        raise ValueError(f'{path}: field "mask_offsets" must have {num + 1} entries')
    if offsets[0] != 0 or (np.diff(offsets) < 0).any() or offsets[-1] != len(columns['mask_rle']):
        raise ValueError(f'{path}: field "mask_offsets" must rise from 0 to the length of '
                         f'"mask_rle" ({len(columns["mask_rle"])})')
    obj_index = columns['obj_index'][columns['has_obj']]
    num_names = len(meta['obj_names'])
    if len(obj_index) and (obj_index.min() < 0 or obj_index.max() >= num_names):
        bad = int(obj_index[(obj_index < 0) | (obj_index >= num_names)][0])
        raise ValueError(f'{path}: field "obj_index" holds {bad}, outside the {num_names} '
                         'entries of "__meta__.obj_names"')
    return columns, meta


def encode_mask(mask: np.ndarray) -> bytes:
    """COCO compressed RLE of a binary ``(H, W)`` mask (empty bytes for an all-zero mask)."""
    from pycocotools import mask as mask_utils
    if not mask.any():
        return b''
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return rle['counts']


def rle_run_lengths(rle: bytes) -> List[int]:
    """Run lengths of a COCO compressed RLE string (pycocotools' ``rleFrString``).

    Raises:
        ValueError: On a character outside the format's alphabet or an unfinished value.
    """
    counts: List[int] = []
    pos = 0
    while pos < len(rle):
        value, shift, more = 0, 0, True
        while more:
            if pos >= len(rle):
                raise ValueError('the RLE string ends inside a value (truncated)')
            code = rle[pos] - _RLE_CHAR_OFFSET
            if not 0 <= code < 64:
                raise ValueError(f'byte {rle[pos]} at position {pos} is not an RLE character')
            value |= (code & 0x1F) << shift
            more = bool(code & 0x20)
            pos += 1
            shift += 5
            if not more and code & 0x10:
                value |= -1 << shift
        if len(counts) > 2:
            value += counts[-2]
        counts.append(value)
    return counts


def decode_mask(rle: bytes, height: int, width: int) -> np.ndarray:
    """Decode :func:`encode_mask` output to a ``(H, W)`` uint8 mask (zeros for empty bytes).

    Raises:
        ValueError: When ``rle`` is not a COCO RLE of exactly ``height * width`` pixels.
    """
    from pycocotools import mask as mask_utils
    if len(rle) == 0:
        return np.zeros((height, width), np.uint8)
    runs = rle_run_lengths(bytes(rle))
    if min(runs) < 0 or sum(runs) != height * width:
        raise ValueError(f'the RLE describes {sum(runs)} pixels in runs of {min(runs)} or more, '
                         f'expected {height}x{width} = {height * width} in non-negative runs')
    return mask_utils.decode({'size': [height, width], 'counts': bytes(rle)})

