import numpy as np
import pytest
from PIL import Image
from torchvision.transforms import functional as tvf

from mmhandobj.datasets.transforms import HandObjectPhotometric
from mmhandobj.datasets.transforms.photometric import (
    adjust_brightness,
    adjust_contrast,
    adjust_hue,
    adjust_saturation,
)


def _image():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)


@pytest.mark.parametrize('factor', [0.5, 0.8, 1.4])
@pytest.mark.parametrize('ours,theirs', [
    (adjust_brightness, tvf.adjust_brightness),
    (adjust_contrast, tvf.adjust_contrast),
    (adjust_saturation, tvf.adjust_saturation),
])
def test_colour_ops_match_torchvision_pil(ours, theirs, factor):
    bgr = _image()
    expected = np.asarray(theirs(Image.fromarray(bgr[:, :, ::-1].copy()), factor))
    got = ours(bgr, factor)[:, :, ::-1].astype(int)
    assert np.abs(got - expected).max() <= 1


@pytest.mark.parametrize('factor', [0.1, -0.13])
def test_hue_close_to_torchvision_pil(factor):
    # OpenCV and PIL quantise HSV differently (a hue step is ~6 RGB levels): compare loosely
    bgr = np.random.default_rng(0).integers(0, 256, (50, 50, 3), dtype=np.uint8)
    expected = np.asarray(tvf.adjust_hue(Image.fromarray(bgr[:, :, ::-1].copy()), factor))
    diff = np.abs(adjust_hue(bgr, factor)[:, :, ::-1].astype(int) - expected)
    assert diff.mean() < 2 and diff.max() <= 16
    assert np.abs(adjust_hue(bgr, 0.0).astype(int) - bgr).mean() < 1


def test_photometric_keeps_dtype_and_shape_and_identity_when_disabled():
    img = _image()
    out = HandObjectPhotometric(blur_range=(0, 0), brightness=0, contrast=0, saturation=0,
                                hue=0)(dict(img=img.copy()))['img']
    np.testing.assert_array_equal(out, img)
    np.random.seed(0)
    out = HandObjectPhotometric()(dict(img=img.copy()))['img']
    assert out.dtype == np.uint8 and out.shape == img.shape
    assert not np.array_equal(out, img)
