"""Decompression bombs are refused from the header, before any decoding."""
import struct
import zlib

import cv2
import numpy as np
import pytest

from mmhandobj.datasets.transforms import read_image
from mmhandobj.datasets.transforms.loading import MAX_IMAGE_PIXELS, ImageReadError

#: Side of the bomb's declared square (20000^2 = 4e8 pixels, 1.2 GB as BGR).
BOMB_SIDE = 20000


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack('>I', len(payload)) + kind + payload +
            struct.pack('>I', zlib.crc32(kind + payload)))


def test_png_bomb_is_refused_before_decoding(tmp_path):
    assert BOMB_SIDE ** 2 > MAX_IMAGE_PIXELS
    # one compressed row of zeros stands in for the 400 MB of pixel data the header promises
    png = (b'\x89PNG\r\n\x1a\n'
           + _chunk(b'IHDR', struct.pack('>IIBBBBB', BOMB_SIDE, BOMB_SIDE, 8, 0, 0, 0, 0))
           + _chunk(b'IDAT', zlib.compress(bytes(BOMB_SIDE + 1))) + _chunk(b'IEND', b''))
    path = tmp_path / 'bomb.png'
    path.write_bytes(png)
    with pytest.raises(ImageReadError, match=rf'{BOMB_SIDE} x {BOMB_SIDE} pixels is larger '
                       rf'.*{path}'):
        read_image(str(path))


def test_jpeg_whose_header_declares_a_huge_frame_is_refused(tmp_path):
    ok, data = cv2.imencode('.jpg', np.full((6, 10, 3), 100, np.uint8))
    data = bytearray(data.tobytes())
    sof = data.index(b'\xff\xc0')
    assert struct.unpack('>HH', data[sof + 5:sof + 9]) == (6, 10)  # height, width
    data[sof + 5:sof + 9] = struct.pack('>HH', 60000, 60000)
    path = tmp_path / 'huge.jpg'
    path.write_bytes(bytes(data))
    with pytest.raises(ImageReadError, match=rf'60000 x 60000 pixels.*{path}'):
        read_image(str(path))


@pytest.mark.parametrize('ext', ['.png', '.jpg'])
def test_ordinary_images_still_load(tmp_path, ext):
    path = str(tmp_path / f'a{ext}')
    cv2.imwrite(path, np.full((7, 13, 3), 50, np.uint8))
    assert read_image(path).shape == (7, 13, 3)
