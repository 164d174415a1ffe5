"""Image and object-mask loading."""
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np
import pyspng
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmhandobj.registry import TRANSFORMS

from ..annotation_file import decode_mask


class ImageReadError(IOError):
    """An image file is missing, corrupt or truncated."""


PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
#: Most pixels (width x height) an image may have; checked from the file header before
#: decoding (134 M: 400 MB as BGR, far above any camera frame; a decompression bomb of a few
#: MB declares billions). libspng has no such limit, OpenCV's is 2^30.
MAX_IMAGE_PIXELS = 1 << 27
#: JPEG start-of-frame markers (they carry the size): C0-CF except DHT C4, JPG C8, DAC CC.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


def image_header_size(data: np.ndarray) -> Optional[Tuple[int, int]]:
    """``(width, height)`` in pixels from a PNG or JPEG header, None for other formats.

    Args:
        data: The file's bytes as a uint8 array (the first 64 KiB suffice for PNG).
    """
    raw = data[:1 << 16].tobytes()
    if raw.startswith(PNG_SIGNATURE) and raw[12:16] == b'IHDR':
        return int.from_bytes(raw[16:20], 'big'), int.from_bytes(raw[20:24], 'big')
    if not raw.startswith(b'\xff\xd8'):
        return None
    raw = data.tobytes()
    pos = 2
    while pos + 9 < len(raw):
        if raw[pos] != 0xFF:
            return None
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _JPEG_SOF:
            return int.from_bytes(raw[pos + 7:pos + 9], 'big'), int.from_bytes(
                raw[pos + 5:pos + 7], 'big')
        if marker == 0xD8 or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            pos += 2
            continue
        pos += 2 + int.from_bytes(raw[pos + 2:pos + 4], 'big')
    return None


def _check_pixel_count(data: np.ndarray, path: str) -> None:
    """Refuse an image whose header declares more than :data:`MAX_IMAGE_PIXELS` pixels."""
    size = image_header_size(data)
    if size is not None and size[0] * size[1] > MAX_IMAGE_PIXELS:
        raise ImageReadError(f'image of {size[0]} x {size[1]} pixels is larger than the limit '
                             f'of {MAX_IMAGE_PIXELS} pixels (a decompression bomb?): {path}')


def _decode_png(data: np.ndarray, path: str) -> np.ndarray:
    """Decode an 8-bit PNG with libspng (about 1.5x faster than OpenCV's libpng) to BGR."""
    try:
        img = pyspng.load(data.tobytes())
    except Exception as err:
        raise ImageReadError(f'corrupt image (cannot decode PNG: {err}): {path}') from None
    if img.dtype != np.uint8:
        raise ImageReadError(f'expected an 8-bit PNG, got {img.dtype} pixels: {path}')
    if img.ndim == 2 or img.shape[2] == 1:
        return cv2.cvtColor(img.reshape(img.shape[:2]), cv2.COLOR_GRAY2BGR)
    code = cv2.COLOR_RGBA2BGR if img.shape[2] == 4 else cv2.COLOR_RGB2BGR
    return cv2.cvtColor(img, code)


def _check_complete(data: np.ndarray, path: str) -> None:
    """Reject JPEG/PNG byte strings that stop before their end marker."""
    if data[:3].tobytes() == b'\xff\xd8\xff':
        tail = data[-64:].tobytes().rstrip(b'\x00')
        if not tail.endswith(b'\xff\xd9'):
            raise ImageReadError(f'truncated JPEG image (no end-of-image marker): {path}')
    elif data[:8].tobytes() == PNG_SIGNATURE:
        if b'IEND' not in data[-32:].tobytes():
            raise ImageReadError(f'truncated PNG image (no IEND chunk): {path}')


def read_image(path: str) -> np.ndarray:
    """Read an 8-bit colour image as BGR with a clear error for bad files.

    PNG files (HO3D v2) are decoded with libspng, everything else with OpenCV.

    Args:
        path: Image file.

    Returns:
        ``(H, W, 3)`` uint8 BGR.

    Raises:
        ImageReadError: Missing, empty, truncated or undecodable file, or one whose header
            declares more than :data:`MAX_IMAGE_PIXELS` pixels.
    """
    if not osp.isfile(path):
        raise ImageReadError(f'image file not found: {path}')
    data = np.fromfile(path, np.uint8)
    if data.size == 0:
        raise ImageReadError(f'empty image file: {path}')
    _check_complete(data, path)
    _check_pixel_count(data, path)
    if data[:8].tobytes() == PNG_SIGNATURE:
        return _decode_png(data, path)
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        raise ImageReadError(f'corrupt image (cannot decode): {path}')
    return img


@TRANSFORMS.register_module()
class LoadHandObjectImage(BaseTransform):
    """Load the frame (:func:`read_image`), or take the one already given.

    As mmpose's ``LoadImage`` at inference, an ``img`` already in the results (an ``(H, W, 3)``
    uint8 BGR array) is used as it is and ``img_path`` is not read.

    Required keys: ``img_path`` (or ``img``). Optional keys: ``ori_shape`` (checked against the
    image; set from it when absent). Added keys: ``img`` ((H, W, 3) uint8 BGR), ``img_shape``
    (and ``ori_shape`` when absent).

    Args:
        on_error: ``'raise'`` (default) raises :class:`ImageReadError` naming the file;
            ``'skip'`` returns ``None`` so that mmengine's ``BaseDataset`` draws another index
            in training; every skip is logged with the running count of this process.
    """

    def __init__(self, on_error: str = 'raise') -> None:
        if on_error not in ('raise', 'skip'):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        self.on_error = on_error
        self.num_skipped = 0

    def transform(self, results: dict) -> Optional[dict]:
        if results.get('img') is not None:
            img = np.asarray(results['img'])
            if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
                raise ValueError(f'{results.get("img_path", "")}: results["img"] must be an '
                                 f'(H, W, 3) uint8 BGR array, got {img.dtype} {img.shape}')
            results.setdefault('ori_shape', img.shape[:2])
            results['img_shape'] = img.shape[:2]
            return results
        try:
            img = read_image(results['img_path'])
            expected = tuple(results.setdefault('ori_shape', img.shape[:2]))
            if img.shape[:2] != expected:
                raise ImageReadError(f'{results["img_path"]}: image is {img.shape[1]}x'
                                     f'{img.shape[0]}, annotations expect '
                                     f'{expected[1]}x{expected[0]}')
        except ImageReadError as err:
            if self.on_error == 'raise':
                raise
            self.num_skipped += 1
            print_log(f'skipped unreadable image ({self.num_skipped} so far in this '
                      f'process): {err}', logger='current', level=30)
            return None
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(on_error={self.on_error!r})'


@TRANSFORMS.register_module()
class LoadObjectMask(BaseTransform):
    """Decode the object mask of the frame (all zeros when the frame has none).

    Required keys: ``obj_mask_rle``, ``ori_shape``. Added keys: ``obj_mask_full``
    ((H, W) uint8, 1 = object). Removed keys: ``obj_mask_rle``.

    Raises:
        KeyError: No ``obj_mask_rle`` (naming the image).
        ValueError: An RLE that does not describe an ``H x W`` mask (naming the annotation
            file, the frame and the image).
    """

    def transform(self, results: dict) -> dict:
        height, width = results['ori_shape']
        if 'obj_mask_rle' not in results:
            raise KeyError(f'{results.get("img_path")}: LoadObjectMask needs "obj_mask_rle" '
                           '(the dataset gives it; is the transform in the right pipeline?)')
        try:
            mask = decode_mask(results.pop('obj_mask_rle'), height, width)
        except ValueError as err:
            raise ValueError(f'{results.get("ann_file", "annotation file")}: field "mask_rle" of '
                             f'frame {results.get("frame_key")} ({results.get("img_path")}): '
                             f'{err}; re-run the converter') from None
        results['obj_mask_full'] = mask
        return results
