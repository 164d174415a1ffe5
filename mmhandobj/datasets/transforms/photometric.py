"""Photometric augmentation on uint8 BGR images (OpenCV look-up tables, no float copies)."""
from typing import Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmhandobj.registry import TRANSFORMS

_LEVELS = np.arange(256, dtype=np.float64)


def _apply_lut(img: np.ndarray, values: np.ndarray) -> np.ndarray:
    return cv2.LUT(img, np.clip(np.rint(values), 0, 255).astype(np.uint8))


def adjust_brightness(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with black: ``img * factor`` (torchvision/PIL ``adjust_brightness``)."""
    return _apply_lut(img, _LEVELS * factor)


def adjust_contrast(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the mean grey level (PIL ``ImageEnhance.Contrast``)."""
    mean = int(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).mean() + 0.5)
    return _apply_lut(img, mean + factor * (_LEVELS - mean))


def adjust_saturation(img: np.ndarray, factor: float) -> np.ndarray:
    """Blend with the greyscale image (PIL ``ImageEnhance.Color``)."""
    grey = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    return cv2.addWeighted(img, factor, grey, 1.0 - factor, 0.0)


def adjust_hue(img: np.ndarray, factor: float) -> np.ndarray:
    """Rotate the 8-bit hue by ``factor`` of a turn (torchvision PIL ``adjust_hue``)."""
    hsv = cv2.cvtColor(img, cv2.COLOR_BGR2HSV_FULL)
    hsv[:, :, 0] += np.uint8(int(factor * 255) % 256)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR_FULL)


@TRANSFORMS.register_module()
class HandObjectPhotometric(BaseTransform):
    """Gaussian blur then colour jitter in random order (docs/reference_parity.md R22).

    Blur: sigma ``U(blur_range)`` (PIL ``GaussianBlur`` radius). Colour jitter as torchvision
    ``ColorJitter``: brightness, contrast and saturation factors ``U(1 - b, 1 + b)``, hue shift
    ``U(-h, h)`` turns, applied in a random permutation.

    Required keys: ``img`` ((h, w, 3) uint8 BGR). Modified keys: ``img``.

    Args:
        blur_range: Range of the blur sigma in pixels.
        brightness: Brightness jitter half-range.
        contrast: Contrast jitter half-range.
        saturation: Saturation jitter half-range.
        hue: Hue jitter half-range (fraction of a turn, <= 0.5).
    """

    def __init__(self, blur_range: Sequence[float] = (0.0, 0.5), brightness: float = 0.5,
                 contrast: float = 0.5, saturation: float = 0.5, hue: float = 0.15) -> None:
        if not 0 <= hue <= 0.5:
            raise ValueError(f'hue must be in [0, 0.5], got {hue}')
        self.blur_range = tuple(blur_range)
        self.brightness = brightness
        self.contrast = contrast
        self.saturation = saturation
        self.hue = hue

    def transform(self, results: dict) -> dict:
        img = results['img']
        sigma = np.random.uniform(*self.blur_range)
        if sigma > 0:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
        ops = [
            (adjust_brightness, self.brightness), (adjust_contrast, self.contrast),
            (adjust_saturation, self.saturation), (adjust_hue, self.hue)]
        for i in np.random.permutation(4):
            op, amount = ops[i]
            if amount <= 0:
                continue
            if op is adjust_hue:
                factor = np.random.uniform(-amount, amount)
            else:
                factor = np.random.uniform(max(0.0, 1 - amount), 1 + amount)
            img = op(img, factor)
        results['img'] = img
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(blur_range={self.blur_range}, '
                f'brightness={self.brightness}, contrast={self.contrast}, '
                f'saturation={self.saturation}, hue={self.hue})')
