"""Broken annotation files give errors naming the file, the field and the fix."""
import json
import os.path as osp

import numpy as np
import pytest

from mmhandobj.datasets import HO3DDataset
from mmhandobj.datasets.annotation_file import decode_mask, encode_mask, load_annotation_file
from mmhandobj.datasets.transforms import LoadObjectMask


@pytest.fixture(scope='module')
def train_columns(ho3d_root):
    path = osp.join(ho3d_root, 'annotations', 'ho3d_v2_train.npz')
    with np.load(path) as npz:
        return {key: npz[key] for key in npz.files}


def _write(path, columns, **changes):
    np.savez(str(path), **dict(columns, **changes))
    return str(path)


def _meta(columns):
    return json.loads(str(columns['__meta__']))


def test_truncated_npz_names_the_file(ho3d_root, tmp_path):
    source = osp.join(ho3d_root, 'annotations', 'ho3d_v2_train.npz')
    with open(source, 'rb') as f:
        data = f.read()
    path = tmp_path / 'cut.npz'
    path.write_bytes(data[:len(data) // 3])
    with pytest.raises(ValueError, match=r'cut\.npz: not a readable annotation \.npz, truncated '
                       r'or corrupt \(BadZipFile'):
        load_annotation_file(str(path))


def test_bad_meta_json_names_the_file(train_columns, tmp_path):
    path = _write(tmp_path / 'meta.npz', train_columns, __meta__=np.array('{"dataset": "ho3d",'))
    with pytest.raises(ValueError, match=r'meta\.npz: field "__meta__" is not valid JSON'):
        load_annotation_file(path)


def test_obj_index_float_or_out_of_range(train_columns, tmp_path):
    as_float = train_columns['obj_index'].astype(np.float32) + 0.5
    path = _write(tmp_path / 'float.npz', train_columns, obj_index=as_float)
    with pytest.raises(ValueError, match=r"float\.npz: field 'obj_index' has dtype float32, "
                       'expected int16'):
        load_annotation_file(path)
    num_names = len(_meta(train_columns)['obj_names'])
    too_big = train_columns['obj_index'].copy()
    too_big[train_columns['has_obj'].argmax()] = num_names
    path = _write(tmp_path / 'range.npz', train_columns, obj_index=too_big)
    with pytest.raises(ValueError, match=rf'range\.npz: field "obj_index" holds {num_names}, '
                       rf'outside the {num_names} entries'):
        load_annotation_file(path)


def test_missing_mask_rle_names_the_field(train_columns, tmp_path):
    columns = {k: v for k, v in train_columns.items() if k != 'mask_rle'}
    path = _write(tmp_path / 'nomask.npz', columns)
    with pytest.raises(ValueError, match=r"nomask\.npz: missing field 'mask_rle'"):
        load_annotation_file(path)


def test_garbage_mask_rle_names_file_and_frame(ho3d_root, train_columns, tmp_path):
    offsets = train_columns['mask_offsets']
    assert offsets[1] > offsets[0]  # frame 0 has a mask
    rle = train_columns['mask_rle'].copy()
    rle[offsets[0]:offsets[1]] = ord('0')  # runs of length 0: decodes to nothing sensible
    path = _write(tmp_path / 'garbage.npz', train_columns, mask_rle=rle)
    dataset = HO3DDataset(data_root=ho3d_root, ann_file=path, split='train')
    info = dataset.get_data_info(0)
    with pytest.raises(ValueError, match=r'garbage\.npz: field "mask_rle" of frame '
                       rf'{info["frame_key"]} \(.*\): the RLE describes 0 pixels'):
        LoadObjectMask().transform(info)


def test_decode_mask_checks_the_pixel_count():
    mask = np.zeros((12, 16), np.uint8)
    mask[3:7, 2:9] = 1
    rle = encode_mask(mask)
    np.testing.assert_array_equal(decode_mask(rle, 12, 16), mask)
    with pytest.raises(ValueError, match=r'describes 192 pixels.*expected 12x15 = 180'):
        decode_mask(rle, 12, 15)
    with pytest.raises(ValueError, match='not an RLE character'):
        decode_mask(b'\xff' + rle, 12, 16)


@pytest.mark.parametrize('field', ['mano_pose', 'mano_shape'])
def test_nan_mano_parameters_are_refused_at_load(ho3d_root, train_columns, tmp_path, field):
    values = train_columns[field].copy()
    values[2, 1] = np.nan
    path = _write(tmp_path / f'nan_{field}.npz', train_columns, **{field: values})
    frame = train_columns['frame_key'][2].decode()
    with pytest.raises(ValueError, match=rf"nan_{field}\.npz: field '{field}' holds NaN/inf in "
                       rf'1 frame\(s\) with a hand, e\.g\. {frame}'):
        HO3DDataset(data_root=ho3d_root, ann_file=path, split='train')
