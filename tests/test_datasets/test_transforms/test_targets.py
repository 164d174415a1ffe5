import numpy as np
from PIL import Image

from mmhandobj.datasets.transforms.targets import crop_mask


def test_crop_mask_matches_pil_crop_and_nearest_resize():
    rng = np.random.default_rng(1)
    mask = (rng.random((64, 64)) > 0.5).astype(np.uint8)
    for box in ([3.4, 5.6, 40.2, 50.7], [-6.0, 10.0, 30.0, 70.0], [10.0, 10.0, 74.5, 40.0]):
        expected = np.asarray(Image.fromarray(mask * 255).crop(box).resize(
            (32, 32), Image.NEAREST)) != 0
        np.testing.assert_array_equal(crop_mask(mask, np.array(box), 32), expected)


def test_crop_mask_degenerate_box_is_empty():
    mask = np.ones((8, 8), np.uint8)
    assert crop_mask(mask, np.array([4.0, 4.0, 4.2, 6.0]), 32).sum() == 0
