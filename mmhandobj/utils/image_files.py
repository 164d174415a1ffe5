"""Image files written by the synthetic world and the visualiser (``cv2.imwrite`` flags and RGB
writing)."""
import cv2
import numpy as np

#: ``cv2.imwrite`` flags of the world's PNGs: zlib level 1 with run-length matching (about the
#: size of the default level, about 2.5x faster to write).
PNG_FAST_FLAGS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY,
                  cv2.IMWRITE_PNG_STRATEGY_RLE]
#: JPEG quality (0-100) of the colour images (HO3D v3 ``rgb``, DexYCB ``color``).
RGB_JPEG_QUALITY = 92


def write_png(path: str, image: np.ndarray) -> None:
    """Write ``image`` (uint8 or uint16, as ``cv2.imwrite`` takes it) as a fast PNG."""
    cv2.imwrite(path, image, PNG_FAST_FLAGS)


def write_rgb(path: str, rgb: np.ndarray) -> None:
    """Write an RGB image: a fast PNG for ``.png``, a :data:`RGB_JPEG_QUALITY` JPEG otherwise.

    Args:
        path: Output path (``.png`` or ``.jpg``).
        rgb: ``(H, W, 3)`` uint8 image, RGB order.
    """
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    if path.endswith('.png'):
        write_png(path, bgr)
    else:
        cv2.imwrite(path, bgr, [cv2.IMWRITE_JPEG_QUALITY, RGB_JPEG_QUALITY])
