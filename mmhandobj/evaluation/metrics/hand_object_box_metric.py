"""Box metric of the hand/object detector: COCO AP per class and the top-1 recall HFL-Net uses."""
import contextlib
import io
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from mmhandobj.datasets.detection_file import detection_categories, save_detection_file
from mmhandobj.registry import METRICS
from mmhandobj.structures.bbox import box_iou
from mmhandobj.structures.detection_classes import DET_CATEGORIES, is_hand_category
from mmhandobj.structures.sample_fields import get_meta, sample_name

#: IoU at which a top-scoring box counts as found (what HFL-Net then crops around).
RECALL_IOU = 0.5


def _field(data_sample: dict, group: str, key: str) -> np.ndarray:
    fields = data_sample.get(group)
    if fields is None or key not in fields:
        raise KeyError(f'{sample_name(data_sample)}: {group}.{key} is missing (a detector '
                       'config needs PackDetectionInputs and HandObjectDetector)')
    value = fields[key]
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    return np.asarray(value)


@METRICS.register_module()
class HandObjectBoxMetric(BaseMetric):
    """COCO box AP / AP50 per class (pycocotools) and the top-1 recall of hand and object.

    Keys (prefix ``det/``), fractions in [0, 1]:

    * ``AP``, ``AP50``: COCO's mean over the classes present in the ground truth;
      ``AP_<class>`` / ``AP50_<class>`` per class; ``hand_AP50`` / ``object_AP50``: the mean
      AP50 over the hand classes / object classes present.
    * ``hand_recall@0.5``: fraction of images with a GT hand whose top-scoring hand
      detection (either side) overlaps it with IoU >= 0.5 (what HFL-Net crops around);
      ``hand_recall@0.5_cls``: the same with the right side. ``obj_recall@0.5`` /
      ``obj_recall@0.5_cls``: the top-scoring object detection, any class / the right YCB
      class (the class names the model points for PnP). An image without a detection of the
      kind counts as a miss.

    Args:
        det_file: When set, also write the detections as a COCO-style file (see
            :mod:`mmhandobj.datasets.detection_file`) there.
        collect_device: ``'cpu'`` or ``'gpu'``.
        prefix: Metric prefix (``'det'``).
    """

    default_prefix = 'det'

    def __init__(self, det_file: Optional[str] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.det_file = det_file

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            height, width = get_meta(sample, 'ori_shape')
            self.results.append(dict(
                file_name=str(get_meta(sample, 'img_path', '', required=False)),
                frame_key=str(get_meta(sample, 'frame_key', '', required=False)),
                width=int(width), height=int(height),
                gt_bboxes=_field(sample, 'gt_instances', 'bboxes').reshape(-1, 4),
                gt_labels=_field(sample, 'gt_instances', 'labels').reshape(-1),
                bboxes=_field(sample, 'pred_instances', 'bboxes').reshape(-1, 4),
                scores=_field(sample, 'pred_instances', 'scores').reshape(-1),
                labels=_field(sample, 'pred_instances', 'labels').reshape(-1)))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        images, gts, dets = [], [], []
        for image_id, res in enumerate(results):
            images.append(dict(id=image_id, file_name=res['file_name'],
                               frame_key=res['frame_key'], width=res['width'],
                               height=res['height']))
            for box, label in zip(res['gt_bboxes'], res['gt_labels']):
                w, h = float(box[2] - box[0]), float(box[3] - box[1])
                gts.append(dict(id=len(gts) + 1, image_id=image_id, category_id=int(label),
                                bbox=[float(box[0]), float(box[1]), w, h], area=w * h,
                                iscrowd=0))
            for box, score, label in zip(res['bboxes'], res['scores'], res['labels']):
                dets.append(dict(image_id=image_id, category_id=int(label), bbox=box.tolist(),
                                 score=float(score)))
        if self.det_file:
            save_detection_file(self.det_file, images, dets)
            print_log(f'{len(dets)} detections of {len(images)} images written to '
                      f'{self.det_file}', logger='current')
        metrics = self._coco_ap(images, gts, dets)
        metrics.update(self._top1_recall(results))
        return metrics

    @staticmethod
    def _coco_ap(images: List[dict], gts: List[dict], dets: List[dict]) -> Dict[str, float]:
        """pycocotools AP (IoU 0.5:0.95) and AP50 per class present in the GT, and means."""
        present = sorted({g['category_id'] for g in gts})
        if not present:
            print_log('HandObjectBoxMetric: no ground-truth box in the evaluated images; '
                      'AP not computed', logger='current', level=30)
            return {}
        coco_gt = COCO()
        coco_gt.dataset = dict(images=images, annotations=gts,
                               categories=detection_categories())
        log = io.StringIO()
        with contextlib.redirect_stdout(log):
            coco_gt.createIndex()
            results = []
            for det in dets:
                x1, y1, x2, y2 = det['bbox']
                results.append(dict(det, bbox=[x1, y1, x2 - x1, y2 - y1]))
            coco_dt = coco_gt.loadRes(results) if results else COCO()
            if not results:
                coco_dt.dataset = dict(images=images, annotations=[],
                                       categories=detection_categories())
                coco_dt.createIndex()
            evaluator = COCOeval(coco_gt, coco_dt, iouType='bbox')
            evaluator.params.catIds = present
            evaluator.evaluate()
            evaluator.accumulate()
        # precision: (IoU thresholds, recall points, classes, area ranges, max dets).
        precision = evaluator.eval['precision'][:, :, :, 0, -1]
        metrics: Dict[str, float] = {}
        ap, ap50 = {}, {}
        for k, cid in enumerate(present):
            per_iou = precision[:, :, k]
            valid = per_iou > -1
            ap[cid] = float(per_iou[valid].mean()) if valid.any() else 0.0
            at50 = per_iou[0][per_iou[0] > -1]
            ap50[cid] = float(at50.mean()) if at50.size else 0.0
            metrics[f'AP_{DET_CATEGORIES[cid]}'] = ap[cid]
            metrics[f'AP50_{DET_CATEGORIES[cid]}'] = ap50[cid]
        metrics['AP'] = float(np.mean(list(ap.values())))
        metrics['AP50'] = float(np.mean(list(ap50.values())))
        for kind, is_kind in (('hand', True), ('object', False)):
            values = [ap50[c] for c in present if is_hand_category(c) == is_kind]
            if values:
                metrics[f'{kind}_AP50'] = float(np.mean(values))
        return metrics

    @staticmethod
    def _top1_recall(results: List[dict]) -> Dict[str, float]:
        """Recall at IoU 0.5 of the top-scoring hand and object detection of each image."""
        hits = {key: [] for key in ('hand', 'hand_cls', 'obj', 'obj_cls')}
        for res in results:
            is_hand_det = np.array([is_hand_category(c) for c in res['labels']], bool)
            for kind in ('hand', 'obj'):
                want_hand = kind == 'hand'
                gt_rows = [i for i, c in enumerate(res['gt_labels'])
                           if is_hand_category(c) == want_hand]
                if not gt_rows:
                    continue
                gt_box, gt_label = res['gt_bboxes'][gt_rows[0]], res['gt_labels'][gt_rows[0]]
                cands = np.flatnonzero(is_hand_det == want_hand)
                if cands.size == 0:
                    hits[kind].append(False)
                    hits[f'{kind}_cls'].append(False)
                    continue
                best = cands[np.argmax(res['scores'][cands])]
                found = bool(box_iou(gt_box, res['bboxes'][best:best + 1])[0] >= RECALL_IOU)
                hits[kind].append(found)
                hits[f'{kind}_cls'].append(found and int(res['labels'][best]) == int(gt_label))
        metrics = {}
        for key, values in hits.items():
            if values:
                kind, _, cls = key.partition('_')
                name = f'{kind}_recall@{RECALL_IOU}' + ('_cls' if cls else '')
                metrics[name] = float(np.mean(values))
        return metrics
