"""Object 6D pose metric: ADD(-S)-0.1D and REP-5px per class (HFL-Net), ADD-S and OCE in mm."""
import logging
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger, print_log

from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.registry import METRICS
from mmhandobj.structures import DIAMETER_MODES, get_instance, get_meta, object_diameter

from ..functional import (
    NAN_POLICIES,
    add_error,
    adds_error,
    center_error,
    finite_sample_mask,
    reprojection_error,
)
from .subsets import score_subsets, subset_masks, subset_tags

#: DexYCB classes scored with ADD-S by HFL-Net (``_YCB_CLASSES`` ids 13, 16, 20, 21).
DEXYCB_SYMMETRIC_OBJECTS = ('024_bowl', '036_wood_block', '052_extra_large_clamp',
                            '061_foam_brick')
_REP_FRAMES = ('image', 'crop')
#: Depth range (metres, camera z of the model centroid) of a plausible object pose. HO3D films
#: a hand-held object at arm's length and DexYCB a grasp above a table from cameras around
#: it: their objects lie well inside 0.2-2 m of the camera (the synthetic world places them
#: 0.45-0.75 m away in the HO3D layout, 0.5-0.7 m in the DexYCB one). A PnP solution
#: outside it is an outlier of the solver, not a pose error of a few centimetres.
PLAUSIBLE_OBJECT_DEPTH = (0.2, 2.0)
#: Frame ids listed in the log of implausible poses; the rest are counted.
_MAX_LOGGED_FRAMES = 100
_M_TO_MM = 1000.0


@METRICS.register_module()
class ObjectPoseMetric(BaseMetric):
    """Per-class and mean object pose accuracy, HFL-Net style, plus ADD-S and OCE in mm.

    Per sample, the predicted pose (``pred_instances.obj_rot`` / ``obj_trans``, model ->
    original camera, metres) is compared with ``gt_instances.obj_pose`` on the model points
    ``<obj_model_root>/<obj_name>/points.xyz`` (read once by an
    :class:`~mmhandobj.datasets.object_models.ObjectModelBank`, float64 as in the file):

    * ``ADD-0.1D_<name>``: % of samples with ADD <= ``add_threshold`` x diameter; classes in
      ``symmetric_objects`` use ADD-S (closest point) instead of ADD. ``ADD-0.1D`` is the mean
      over classes.
    * ``REP-5px_<name>``: % of samples with mean reprojection error <= ``rep_threshold`` px;
      ``REP-5px`` is the mean over classes. Pixels of the original image
      (``rep_frame='image'``, metainfo ``ori_cam_intr``) or of the network crop
      (``rep_frame='crop'``, metainfo ``cam_intr``, points mirrored when ``flip``), the latter
      being what HFL-Net reports on HO3D.
    * ``ADD-S_mm``: mean ADD-S over all samples, mm. ``OCE_mm``: mean object-centre error (the
      centroid of the model points under both poses), mm. ``REP_px``: mean reprojection
      error, pixels of the ``rep_frame`` image.
    * ``ADD-S_median_mm``, ``OCE_median_mm``, ``REP_median_px``: their medians, which one
      absurd pose cannot move (a single PnP outlier kilometres away dominates a mean).
    * ``ADD-S_mm_<name>``, ``ADD-S_median_mm_<name>``: the ADD-S mean and median of each class.
    * ``implausible_count`` and ``implausible_ratio`` (of the frames with a GT object pose):
      predicted poses whose model centroid is not finite, lies behind the camera, or lies
      outside ``plausible_depth``; each is logged as a warning with its frame id (metainfo
      ``img_path``, else ``sample_idx``). They stay in the means and medians above (the
      means remain comparable with published numbers); the count says how many there are.

    Subsets (``subsets=True``, on by default): ``ADD-S_mm`` and ``ADD-S_median_mm`` over the
    hand-object proximity and occlusion subsets of :mod:`~mmhandobj.evaluation.metrics.subsets`
    (the per-class ones are the keys above) as ``subset/<subset>/<key>``, with the frame count
    as ``subset/<subset>/frames``; the keys above are unchanged.

    Frames without a GT object pose (DexYCB frames whose grasped object has no ``pose_y``) are
    skipped and counted in the log; every frame with one is scored, with or without a hand.

    Classes in ``exclude_from_mean`` (e.g. HO3D's unseen ``019_pitcher_base``) keep their own
    keys but are left out of the two class means.

    Non-finite predicted poses: ``nan_policy='exclude'`` (default) logs their count and
    ``sample_idx`` and leaves them out; ``'raise'`` raises a ValueError.

    Args:
        obj_model_root: Folder holding ``<obj_name>/points.xyz``.
        symmetric_objects: Object names scored with ADD-S; default the DexYCB set of HFL-Net.
        diameter: Object diameter of the ADD threshold. None (default): the dataset's, read
            from the packed ``gt_instances.obj_diameter`` (set by the dataset's
            ``diameter_mode``), or the ``'aabb'`` diameter of the model points for a class
            whose samples do not all carry it. ``'aabb'`` (bounding-box diagonal, HFL-Net),
            ``'max'`` or its alias ``'max_extent'``: computed from the model points with
            :func:`~mmhandobj.structures.object_diameter`.
        add_threshold: Fraction of the diameter for ADD(-S) success.
        rep_threshold: Pixel threshold for REP success.
        rep_frame: ``'image'`` or ``'crop'``.
        exclude_from_mean: Object names left out of the class means.
        nan_policy: ``'exclude'`` or ``'raise'``.
        plausible_depth: ``(near, far)`` metres: camera depth range of a plausible object
            centroid (default :data:`PLAUSIBLE_OBJECT_DEPTH`, 0.2-2 m, which holds HO3D's
            and DexYCB's objects).
        subsets: Add the subset keys (see above).
        collect_device: See :class:`mmengine.evaluator.BaseMetric`.
        prefix: Metric name prefix; defaults to ``'obj'``.
    """

    default_prefix: Optional[str] = 'obj'

    def __init__(self,
                 obj_model_root: str,
                 symmetric_objects: Sequence[str] = DEXYCB_SYMMETRIC_OBJECTS,
                 diameter: Optional[str] = None,
                 add_threshold: float = 0.1,
                 rep_threshold: float = 5.0,
                 rep_frame: str = 'image',
                 exclude_from_mean: Sequence[str] = (),
                 nan_policy: str = 'exclude',
                 plausible_depth: Tuple[float, float] = PLAUSIBLE_OBJECT_DEPTH,
                 subsets: bool = True,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if nan_policy not in NAN_POLICIES:
            raise ValueError(f'nan_policy must be one of {NAN_POLICIES}, got {nan_policy!r}')
        near, far = (float(d) for d in plausible_depth)
        if not 0 <= near < far:
            raise ValueError(f'plausible_depth must be (near, far) metres with 0 <= near < far, '
                             f'got {tuple(plausible_depth)}')
        if not osp.isdir(obj_model_root):
            raise FileNotFoundError(f'ObjectPoseMetric obj_model_root does not exist: '
                                    f'{obj_model_root}')
        if diameter is not None and diameter not in DIAMETER_MODES:
            raise ValueError(f'diameter must be None or one of {DIAMETER_MODES}, got '
                             f'{diameter!r}')
        if rep_frame not in _REP_FRAMES:
            raise ValueError(f'rep_frame must be one of {_REP_FRAMES}, got {rep_frame!r}')
        self.obj_model_root = obj_model_root
        self.symmetric_objects = set(symmetric_objects)
        self.diameter = diameter
        self.add_threshold = add_threshold
        self.rep_threshold = rep_threshold
        self.rep_frame = rep_frame
        self.exclude_from_mean = set(exclude_from_mean)
        self.nan_policy = nan_policy
        self.plausible_depth = (near, far)
        self.subsets = subsets
        self.objects = ObjectModelBank(obj_model_root)

    def model_points(self, obj_name: str) -> np.ndarray:
        """``(P, 3)`` float64 model points of ``obj_name`` (metres), read once and cached."""
        return self.objects.points64(obj_name)

    def _diameter(self, name: str, group: List[dict]) -> Union[float, np.ndarray]:
        """Diameter of class ``name`` (metres; one per sample when packed), see ``diameter``."""
        packed = [r['diameter'] for r in group]
        if self.diameter is None and all(d is not None for d in packed):
            return np.asarray(packed, np.float64)
        return object_diameter(self.model_points(name), self.diameter or 'aabb')

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        """Store predicted and GT poses, intrinsics and the object name per sample."""
        intr_key = 'ori_cam_intr' if self.rep_frame == 'image' else 'cam_intr'
        for sample in data_samples:
            gt_pose = get_instance(sample, 'gt_instances', 'obj_pose', (3, 4), required=False)
            if gt_pose is None:
                self.results.append(dict(no_object=True))
                continue
            self.results.append(dict(
                sample_idx=int(get_meta(sample, 'sample_idx')),
                img_path=get_meta(sample, 'img_path', None, required=False),
                obj_name=str(get_meta(sample, 'obj_name')),
                rot=get_instance(sample, 'pred_instances', 'obj_rot', (3, 3)),
                trans=get_instance(sample, 'pred_instances', 'obj_trans', (3, )),
                gt_rot=gt_pose[:, :3],
                gt_trans=gt_pose[:, 3],
                cam_intr=np.asarray(get_meta(sample, intr_key), dtype=np.float64),
                diameter=self._packed_diameter(sample),
                flip=bool(get_meta(sample, 'flip', False, required=False)),
                tags=subset_tags(sample)))

    @staticmethod
    def _packed_diameter(sample: dict) -> Optional[float]:
        """``gt_instances.obj_diameter`` (metres) when packed, else None."""
        value = get_instance(sample, 'gt_instances', 'obj_diameter', (), required=False)
        return None if value is None else float(value)

    def _implausible(self, results: List[dict]) -> Dict[str, float]:
        """Count and log the predicted poses whose centroid depth is implausible.

        Args:
            results: The stored samples with a GT object pose.

        Returns:
            ``implausible_count`` and ``implausible_ratio`` (of ``len(results)``).
        """
        near, far = self.plausible_depth
        flagged = []
        for r in results:
            centre = self.model_points(r['obj_name']).mean(axis=0)
            depth = float((np.asarray(r['rot'], np.float64) @ centre + r['trans'])[2])
            if not (np.isfinite(r['rot']).all() and np.isfinite(r['trans']).all()):
                reason = 'not finite'
            elif depth <= 0:
                reason = f'behind the camera (depth {depth:.3g} m)'
            elif not near <= depth <= far:
                reason = f'depth {depth:.3g} m outside [{near:g}, {far:g}] m'
            else:
                continue
            frame = r['img_path'] if r['img_path'] is not None else f'sample_idx {r["sample_idx"]}'
            flagged.append(f'{frame} ({r["obj_name"]}): {reason}')
        if flagged:
            shown = flagged[:_MAX_LOGGED_FRAMES]
            more = (f'\n  ... and {len(flagged) - len(shown)} more'
                    if len(flagged) > len(shown) else '')
            print_log(f'ObjectPoseMetric: {len(flagged)} of {len(results)} predicted object '
                      'poses are implausible (object centroid):\n  ' + '\n  '.join(shown) + more,
                      logger='current', level=logging.WARNING)
        return dict(implausible_count=len(flagged),
                    implausible_ratio=len(flagged) / len(results))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Return per-class and mean ADD-0.1D / REP-5px (%), ADD-S / OCE (mm), REP (px), their
        medians and the implausible-pose count and ratio."""
        num_no_object = sum(1 for r in results if r.get('no_object'))
        results = [r for r in results if not r.get('no_object')]
        if num_no_object:
            MMLogger.get_current_instance().info(
                f'ObjectPoseMetric: {num_no_object} frames without an object pose skipped, '
                f'{len(results)} scored')
        if not results:
            raise ValueError(f'ObjectPoseMetric: none of the {num_no_object} frames has an '
                             'object pose (gt_instances.obj_pose) to score')
        implausible = self._implausible(results)
        ids = [r['sample_idx'] for r in results]
        valid = finite_sample_mask(
            [np.stack([r['rot'] for r in results]), np.stack([r['trans'] for r in results])],
            ids, self.nan_policy, 'ObjectPoseMetric predictions')
        groups = defaultdict(list)
        for result, ok in zip(results, valid):
            if ok:
                groups[result['obj_name']].append(result)
        if not groups:
            raise ValueError('ObjectPoseMetric: no sample with a finite prediction to score')

        scores: Dict[str, float] = {}
        add_rates, rep_rates, adds_all, oce_all, rep_all, tags = [], [], [], [], [], []
        for name in sorted(groups):
            group = groups[name]
            points = self.model_points(name)
            pose = [np.stack([r[key] for r in group]) for key in
                    ('rot', 'trans', 'gt_rot', 'gt_trans')]
            adds = adds_error(points, *pose)
            add = adds if name in self.symmetric_objects else add_error(points, *pose)
            mirror = (np.array([r['flip'] for r in group])
                      if self.rep_frame == 'crop' else None)
            rep = reprojection_error(points, *pose, np.stack([r['cam_intr'] for r in group]),
                                     mirror=mirror)
            threshold = self.add_threshold * self._diameter(name, group)
            scores[f'ADD-0.1D_{name}'] = float(np.mean(add <= threshold) * 100)
            scores[f'REP-5px_{name}'] = float(np.mean(rep <= self.rep_threshold) * 100)
            if name not in self.exclude_from_mean:
                add_rates.append(scores[f'ADD-0.1D_{name}'])
                rep_rates.append(scores[f'REP-5px_{name}'])
            scores[f'ADD-S_mm_{name}'] = float(adds.mean() * _M_TO_MM)
            scores[f'ADD-S_median_mm_{name}'] = float(np.median(adds) * _M_TO_MM)
            adds_all.append(adds)
            tags += [r['tags'] for r in group]
            rep_all.append(rep)
            oce_all.append(center_error(points.mean(axis=0), *pose))
        if add_rates:
            scores['ADD-0.1D'] = float(np.mean(add_rates))
            scores['REP-5px'] = float(np.mean(rep_rates))
        adds_all, oce_all, rep_all = (np.concatenate(v) for v in (adds_all, oce_all, rep_all))
        scores['ADD-S_mm'] = float(adds_all.mean() * _M_TO_MM)
        scores['ADD-S_median_mm'] = float(np.median(adds_all) * _M_TO_MM)
        scores['OCE_mm'] = float(oce_all.mean() * _M_TO_MM)
        scores['OCE_median_mm'] = float(np.median(oce_all) * _M_TO_MM)
        scores['REP_px'] = float(rep_all.mean())
        scores['REP_median_px'] = float(np.median(rep_all))
        scores.update(implausible)
        if self.subsets:
            scores.update(score_subsets(
                lambda mask: {'ADD-S_mm': float(adds_all[mask].mean() * _M_TO_MM),
                              'ADD-S_median_mm': float(np.median(adds_all[mask]) * _M_TO_MM)},
                subset_masks(tags, by_object=False)))
        return scores
