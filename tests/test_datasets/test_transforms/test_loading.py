import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.transforms import (
    GetHandObjectCrop,
    ImageReadError,
    LoadHandObjectImage,
    read_image,
)


@pytest.fixture
def images(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    paths = {}
    for ext in ('png', 'jpg'):
        path = str(tmp_path / f'good.{ext}')
        cv2.imwrite(path, img)
        paths[ext] = path
        data = open(path, 'rb').read()
        truncated = str(tmp_path / f'truncated.{ext}')
        with open(truncated, 'wb') as f:
            f.write(data[:len(data) // 2])
        paths[f'truncated_{ext}'] = truncated
    corrupt = str(tmp_path / 'corrupt.png')
    with open(corrupt, 'wb') as f:
        f.write(b'not an image at all' * 10)
    paths['corrupt'] = corrupt
    paths['img'] = img
    return paths


def test_read_image_good_and_bad(images, tmp_path):
    np.testing.assert_array_equal(read_image(images['png']), images['img'])
    assert read_image(images['jpg']).shape == (48, 64, 3)
    for key, message in (('truncated_png', 'truncated PNG'), ('truncated_jpg', 'truncated JPEG'),
                         ('corrupt', 'corrupt image')):
        with pytest.raises(ImageReadError, match=message) as err:
            read_image(images[key])
        assert images[key] in str(err.value)
    missing = str(tmp_path / 'missing.png')
    with pytest.raises(ImageReadError, match=f'image file not found: {missing}'):
        read_image(missing)


def test_png_decoding_matches_opencv_for_all_channel_layouts(tmp_path):
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (30, 40), dtype=np.uint8)
    bgra = rng.integers(0, 256, (30, 40, 4), dtype=np.uint8)
    for name, pixels in (('gray', gray), ('bgra', bgra)):
        path = str(tmp_path / f'{name}.png')
        cv2.imwrite(path, pixels)
        np.testing.assert_array_equal(read_image(path), cv2.imread(path, cv2.IMREAD_COLOR))
    # a PNG whose data chunk is damaged (but which still ends with IEND) names the file
    good = str(tmp_path / 'gray.png')
    data = bytearray(open(good, 'rb').read())
    idat = data.index(b'IDAT') + 8
    data[idat:idat + 16] = b'\x00' * 16
    damaged = str(tmp_path / 'damaged.png')
    with open(damaged, 'wb') as f:
        f.write(bytes(data))
    with pytest.raises(ImageReadError, match='damaged.png'):
        read_image(damaged)


def test_load_transform_raise_or_skip(images):
    results = dict(img_path=images['truncated_jpg'], ori_shape=(48, 64))
    with pytest.raises(ImageReadError):
        LoadHandObjectImage()(dict(results))
    skip = LoadHandObjectImage(on_error='skip')
    assert skip(dict(results)) is None and skip(dict(results)) is None
    assert skip.num_skipped == 2
    wrong_size = dict(img_path=images['png'], ori_shape=(480, 640))
    with pytest.raises(ImageReadError, match='annotations expect 640x480'):
        LoadHandObjectImage()(wrong_size)


def test_skipped_image_is_resampled_by_the_dataset(ho3d_root, tmp_path):
    root = str(tmp_path / 'ho3d')
    shutil.copytree(ho3d_root, root)
    init_default_scope('mmhandobj')
    kwargs = dict(data_root=root, split='train')
    broken = HO3DDataset(**kwargs).get_data_info(0)['img_path']
    with open(broken, 'r+b') as f:
        f.truncate(osp.getsize(broken) // 3)
    dataset = HO3DDataset(pipeline=[dict(type='LoadHandObjectImage', on_error='skip')],
                          **kwargs)
    out = dataset[0]
    assert out['img_path'] != broken and out['img'].shape == (480, 640, 3)
    assert dataset.pipeline.transforms[0].num_skipped >= 1
    raising = HO3DDataset(pipeline=[dict(type='LoadHandObjectImage')], **kwargs)
    with pytest.raises(ImageReadError, match=broken):
        raising[0]


def test_nan_points_name_the_frame():
    results = dict(img_path='frame.png', ori_shape=(480, 640),
                   joints2d=np.full((21, 2), np.nan, np.float32))
    with pytest.raises(ValueError, match='frame.png: NaN/inf'):
        GetHandObjectCrop()(results)
    results = dict(img_path='frame.png', ori_shape=(480, 640),
                   joints2d=np.full((21, 2), 900.0, np.float32))
    with pytest.raises(ValueError, match='frame.png: degenerate crop'):
        GetHandObjectCrop()(results)
