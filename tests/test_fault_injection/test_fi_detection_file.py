"""Hostile or broken detection files: named errors, logged skips, one parse per process."""
import json
import logging
import logging.handlers

import pytest
from mmengine.logging import MMLogger

from mmhandobj.datasets import detection_file
from mmhandobj.datasets.detection_file import load_detection_file, save_detection_file
from mmhandobj.datasets.transforms import LoadDetectedBoxes

#: An image of 640 x 480 pixels and three detections of known categories on it.
IMAGE = dict(id=1, file_name='a.png', frame_key='SM3/0000', width=640, height=480)


def _good(tmp_path) -> dict:
    path = tmp_path / 'good.json'
    save_detection_file(str(path), [IMAGE], [
        dict(image_id=1, category_id=1, bbox=[10, 10, 50, 60], score=0.9),
        dict(image_id=1, category_id=3, bbox=[100, 100, 200, 220], score=0.8),
        dict(image_id=1, category_id=2, bbox=[300, 10, 320, 40], score=0.5)])
    return json.loads(path.read_text())


def _write(tmp_path, data, name='dets.json') -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(path)


@pytest.mark.parametrize('field,value,match', [
    ('bbox', ['10', 10, 5, 5], r"annotations\[1\] field 'bbox' is '10', expected a number"),
    ('bbox', [1e30, 10, 5, 5], r"annotations\[1\] field 'bbox' is 1e\+30, expected a finite"),
    ('bbox', [10, 10, 5], r"annotations\[1\] field 'bbox' is \[10, 10, 5\]"),
    ('score', True, r"annotations\[1\] field 'score' is True, expected a number"),
    ('score', None, r"annotations\[1\] field 'score' is None"),
    ('category_id', 'hand', r"annotations\[1\] field 'category_id' is 'hand'"),
])
def test_malformed_fields_are_named(tmp_path, field, value, match):
    data = _good(tmp_path)
    data['annotations'][1][field] = value
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=rf'{path}: {match}'):
        load_detection_file(path)


def test_missing_fields_non_finite_values_and_deep_nesting_are_named(tmp_path):
    data = _good(tmp_path)
    del data['annotations'][0]['score']
    path = _write(tmp_path, data)
    with pytest.raises(ValueError, match=rf"{path}: annotations\[0\] lacks the field\(s\) "
                       r"\['score'\]"):
        load_detection_file(path)
    data = _good(tmp_path)
    data['annotations'][2]['bbox'][0] = float('nan')
    path = _write(tmp_path, data, 'nan.json')
    with pytest.raises(ValueError, match=rf"{path}: annotations\[2\] field 'bbox' is nan"):
        load_detection_file(path)
    path = _write(tmp_path, '[' * 100000 + ']' * 100000, 'deep.json')
    with pytest.raises(ValueError, match=rf'{path}: not a detection file'):
        load_detection_file(path)


def test_unknown_categories_and_empty_or_off_image_boxes_are_skipped_and_counted(tmp_path):
    data = _good(tmp_path)
    extra = [dict(category_id=c, bbox=[10, 10, 5, 5]) for c in (0, -3, 99)]
    extra += [dict(category_id=1, bbox=[10, 10, -5, 5]), dict(category_id=1, bbox=[10, 10, 5, 0]),
              dict(category_id=3, bbox=[700, 10, 5, 5]), dict(category_id=3, bbox=[-50, 10, 40, 5])]
    for k, ann in enumerate(extra, start=10):
        data['annotations'].append(dict(ann, id=k, image_id=1, score=0.99, area=1.0))
    path = _write(tmp_path, data)
    records = logging.handlers.BufferingHandler(capacity=100)
    MMLogger.get_current_instance().addHandler(records)
    try:
        dets = load_detection_file(path)
    finally:
        MMLogger.get_current_instance().removeHandler(records)
    assert [d['score'] for d in dets['SM3/0000']] == [0.9, 0.8, 0.5]  # only the good ones
    out = '\n'.join(record.getMessage() for record in records.buffer)
    assert "{'unknown_category': 3, 'empty_box': 2, 'off_image': 2}" in out and path in out


def test_a_detection_file_is_parsed_once_per_process(tmp_path, monkeypatch):
    path = _write(tmp_path, _good(tmp_path))
    calls = []
    real_load = json.load
    monkeypatch.setattr(detection_file.json, 'load',
                        lambda f: calls.append(f.name) or real_load(f))
    transforms = [LoadDetectedBoxes(path) for _ in range(3)]  # e.g. val and test pipelines
    for transform in transforms:
        transform._lookup(dict(frame_key='SM3/0000'))
    assert calls == [path]
