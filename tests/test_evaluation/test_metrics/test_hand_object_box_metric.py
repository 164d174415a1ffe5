"""HandObjectBoxMetric: pycocotools AP against closed forms, top-1 recall, detection file."""
import json

import numpy as np
import pytest
import torch
from pycocotools.coco import COCO

from mmhandobj.datasets.detection_file import load_detection_file
from mmhandobj.evaluation.metrics import HandObjectBoxMetric
from mmhandobj.structures import box_iou
from mmhandobj.structures.detection_classes import DET_CATEGORY_IDS, LEFT_HAND_ID, RIGHT_HAND_ID

MUSTARD = DET_CATEGORY_IDS['006_mustard_bottle']
HAND_BOX = [100.0, 100.0, 200.0, 200.0]
OBJ_BOX = [300.0, 100.0, 400.0, 300.0]


def _sample(idx, gt_boxes, gt_labels, boxes, scores, labels):
    return dict(
        img_path=f'img{idx}.png', frame_key=f'SEQ/{idx:04d}', ori_shape=(480, 640),
        gt_instances=dict(bboxes=torch.tensor(gt_boxes, dtype=torch.float32).reshape(-1, 4),
                          labels=torch.tensor(gt_labels).reshape(-1)),
        pred_instances=dict(bboxes=torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                            scores=torch.tensor(scores, dtype=torch.float32).reshape(-1),
                            labels=torch.tensor(labels).reshape(-1)))


def _run(samples, **kwargs):
    metric = HandObjectBoxMetric(**kwargs)
    metric.process({}, samples)
    return metric.compute_metrics(metric.results)


def test_box_iou_closed_form():
    # Two 100x100 boxes shifted by 50 px: intersection 50x100 = 5000, union 15000.
    iou = box_iou([0, 0, 100, 100], [[50, 0, 150, 100], [200, 200, 300, 300], [0, 0, 100, 100]])
    np.testing.assert_allclose(iou, [1 / 3, 0.0, 1.0])


def test_perfect_detections_score_one():
    samples = [_sample(i, [HAND_BOX, OBJ_BOX], [RIGHT_HAND_ID, MUSTARD],
                       [HAND_BOX, OBJ_BOX], [0.9, 0.8], [RIGHT_HAND_ID, MUSTARD])
               for i in range(3)]
    res = _run(samples)
    for key in ('AP', 'AP50', 'hand_AP50', 'object_AP50', 'AP50_right_hand',
                'AP50_006_mustard_bottle', 'hand_recall@0.5', 'hand_recall@0.5_cls',
                'obj_recall@0.5', 'obj_recall@0.5_cls'):
        assert res[key] == pytest.approx(1.0), key
    assert 'AP_left_hand' not in res  # only classes present in the GT are scored


def test_ap50_matches_the_101_point_interpolation():
    # Two images with one GT hand each; ranked detections TP (0.9), FP (0.8), TP (0.7).
    # Precision/recall after each: (1, 0.5), (1/2, 0.5), (2/3, 1). COCO interpolates the
    # precision envelope at 101 recall points: 1 on [0, 0.5] (51 points), 2/3 on (0.5, 1] (50).
    far = [500.0, 400.0, 600.0, 470.0]
    samples = [
        _sample(0, [HAND_BOX], [RIGHT_HAND_ID], [HAND_BOX, far], [0.9, 0.8],
                [RIGHT_HAND_ID, RIGHT_HAND_ID]),
        _sample(1, [HAND_BOX], [RIGHT_HAND_ID], [HAND_BOX], [0.7], [RIGHT_HAND_ID]),
    ]
    res = _run(samples)
    assert res['AP50_right_hand'] == pytest.approx((51 + 50 * 2 / 3) / 101, abs=1e-6)
    # The top-scoring hand of each image is the right box.
    assert res['hand_recall@0.5'] == 1.0


def test_top1_recall_uses_the_best_scored_box_and_its_class():
    shifted = [150.0, 100.0, 250.0, 200.0]  # IoU 1/3 with HAND_BOX
    samples = [
        # best hand is the shifted box (miss) although a perfect one exists with a lower score
        _sample(0, [HAND_BOX, OBJ_BOX], [RIGHT_HAND_ID, MUSTARD],
                [shifted, HAND_BOX, OBJ_BOX], [0.9, 0.5, 0.9],
                [RIGHT_HAND_ID, RIGHT_HAND_ID, DET_CATEGORY_IDS['025_mug']]),
        # right box, wrong side; object not detected at all
        _sample(1, [HAND_BOX, OBJ_BOX], [RIGHT_HAND_ID, MUSTARD], [HAND_BOX], [0.9],
                [LEFT_HAND_ID]),
    ]
    res = _run(samples)
    assert res['hand_recall@0.5'] == pytest.approx(0.5)
    assert res['hand_recall@0.5_cls'] == pytest.approx(0.0)
    assert res['obj_recall@0.5'] == pytest.approx(0.5)      # image 0: right box, wrong class
    assert res['obj_recall@0.5_cls'] == pytest.approx(0.0)


def test_detection_file_round_trip(tmp_path):
    out = tmp_path / 'dets.json'
    samples = [_sample(0, [HAND_BOX, OBJ_BOX], [RIGHT_HAND_ID, MUSTARD],
                       [OBJ_BOX, HAND_BOX], [0.6, 0.9], [MUSTARD, RIGHT_HAND_ID]),
               _sample(1, [HAND_BOX], [RIGHT_HAND_ID], [], [], [])]
    _run(samples, det_file=str(out))
    dets = load_detection_file(str(out))
    first = dets['SEQ/0000']
    assert [d['category_id'] for d in first] == [RIGHT_HAND_ID, MUSTARD]  # by score
    np.testing.assert_allclose(first[0]['bbox'], HAND_BOX)
    np.testing.assert_allclose(first[1]['bbox'], OBJ_BOX)
    assert first[0]['score'] == pytest.approx(0.9)
    assert dets['img0.png'] == first and dets['SEQ/0001'] == []
    # pycocotools reads the file as a COCO dataset (bbox as x y w h)
    coco = COCO(str(out))
    ann = coco.loadAnns(coco.getAnnIds(imgIds=[0], catIds=[MUSTARD]))[0]
    assert ann['bbox'] == [300.0, 100.0, 100.0, 200.0]
    assert json.loads(out.read_text())['categories'][0]['name'] == 'right_hand'


def test_detection_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='--out dets.json'):
        load_detection_file(str(tmp_path / 'missing.json'))
    bad = tmp_path / 'bad.json'
    bad.write_text(json.dumps([{'image_id': 0}]))
    with pytest.raises(ValueError, match='"images"'):
        load_detection_file(str(bad))
