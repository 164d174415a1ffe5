"""High-level inference: build a model from a config and run it on images with given boxes.

HFL-Net needs, for each image, a hand box and an object box (original-image pixels, x1y1x2y2),
the camera intrinsics and, to solve the object pose, the object's identity (its 3D box
keypoints come from ``<obj_model_root>/<obj_name>/points.xyz``), as in the benchmark protocol.

As mmpose's ``inference_topdown``, the inputs are built by the model config's own test
pipeline (``cfg.test_dataloader.dataset.pipeline``), fed a results dict that carries what a
dataset would: the image (``img``, or ``img_path`` to read), ``ori_cam_intr``, ``hand_side``,
the boxes as ``hand_box_hint`` / ``obj_box_hint`` (read by the crop transforms when there is no
ground truth) and, when the object is named, ``obj_name`` and ``obj_kps3d``. Left hands are
mirrored to right hands (``hand_side='left'``) as in training.

The hand output is ROOT-RELATIVE: HFL-Net does not predict where the wrist is in the camera.
``pred_instances.hand_joints3d`` / ``hand_verts3d`` are wrist-centred metres in the network
frame (mirrored for a left hand); :func:`~mmhandobj.evaluation.functional.
root_relative_to_camera` with a known wrist position (``root_joint``) places them in the
camera. ``pred_instances.hand_joints2d_img`` and ``obj_kps2d_img`` are in original-image
pixels. The object pose ``obj_rot`` / ``obj_trans`` is absolute (model -> camera, metres).
"""
import os.path as osp
from pathlib import Path
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import _load_checkpoint, _load_checkpoint_to_model
from torch import nn

from mmhandobj.datasets.object_models import ObjectModelBank
from mmhandobj.models.inference_optim import optimize_for_inference
from mmhandobj.registry import MODELS
from mmhandobj.structures import HandObjectDataSample
from mmhandobj.utils import apply_mmengine_patches
from mmhandobj.utils.checkpoint import check_checkpoint_fits

ImageType = Union[str, np.ndarray]


def init_model(config: Union[str, Path, Config], checkpoint: Optional[str] = None,
               device: str = 'cpu', cfg_options: Optional[dict] = None,
               optimize: bool = False, backend: Optional[str] = None) -> nn.Module:
    """Build a model from a config and load a checkpoint.

    Args:
        config: Config file path or ``Config``.
        checkpoint: Checkpoint file (loaded with MMEngine's ``load_checkpoint`` after
            :func:`~mmhandobj.utils.apply_mmengine_patches`: weights-only, clear errors for
            broken files) after :func:`~mmhandobj.utils.checkpoint.check_checkpoint_fits`
            (a checkpoint of another model is refused). None keeps random weights.
        device: Torch device, e.g. ``'cpu'`` or ``'cuda:0'``.
        cfg_options: Overrides merged into the config (``Config.merge_from_dict``).
        optimize: Apply ``tools/test.py``'s inference speed-ups
            (:func:`~mmhandobj.models.inference_optim.optimize_for_inference`: BatchNorms
            folded into the convs, channels-last weights; same outputs to 1e-4 relative). The
            model can then no longer be trained, and its ``state_dict`` has no BatchNorm
            entries: keep the default to fine-tune or to save a checkpoint.
        backend: ``'onnxruntime'`` (implied by a ``.onnx`` checkpoint): run the network
            exported by ``tools/deployment/pytorch2onnx.py`` with onnxruntime
            (:class:`~mmhandobj.apis.onnx_backend.OnnxRuntimeEstimator`, inference only;
            ``optimize`` does not apply). None or ``'pytorch'``: the PyTorch model.

    Returns:
        The model in eval mode on ``device``, with the config as ``model.cfg``.
    """
    if isinstance(config, (str, Path)):
        config = Config.fromfile(str(config))
    elif not isinstance(config, Config):
        raise TypeError(f'config must be a file path or a Config, got {type(config).__name__}')
    if cfg_options is not None:
        config.merge_from_dict(cfg_options)
    if 'model' not in config:
        raise KeyError(f'config {config.filename} has no "model" entry')
    init_default_scope(config.get('default_scope', 'mmhandobj'))
    if backend == 'onnxruntime' or (backend is None and str(checkpoint).endswith('.onnx')):
        from mmhandobj.apis.onnx_backend import onnx_model_cfg
        config.model = onnx_model_cfg(config.model, str(checkpoint))
        checkpoint = None
    elif backend not in (None, 'pytorch'):
        raise ValueError(f"backend must be 'pytorch' or 'onnxruntime', got {backend!r}")
    if checkpoint is not None and 'backbone' in config.model:
        config.model.backbone.init_cfg = None
    model = MODELS.build(config.model)
    if checkpoint is not None:
        apply_mmengine_patches()
        loaded = _load_checkpoint(checkpoint, map_location='cpu')
        check_checkpoint_fits(model, checkpoint, loaded)
        _load_checkpoint_to_model(model, loaded)
    model.cfg = config
    model = model.to(device).eval()
    return optimize_for_inference(model) if optimize else model


def _per_image(value, num: int, shape: tuple, name: str) -> np.ndarray:
    """``value`` of one image ``shape`` or of all images ``(num, *shape)`` -> ``(num, *shape)``."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape == shape:
        return np.broadcast_to(array, (num, *shape)).copy()
    if array.shape != (num, *shape):
        raise ValueError(f'{name}: expected shape {shape} or {(num, *shape)} for {num} '
                         f'image(s), got {array.shape}')
    return array


def as_intrinsics(cam_intr, num: int) -> np.ndarray:
    """Intrinsics of ``num`` images as ``(num, 3, 3)``.

    Args:
        cam_intr: ``(3, 3)`` matrix or ``(fx, fy, cx, cy)`` shared by all images, or one of
            those per image (``(num, 3, 3)`` / ``(num, 4)``).
        num: Number of images.

    Returns:
        ``(num, 3, 3)`` float64 intrinsics.
    """
    array = np.asarray(cam_intr, dtype=np.float64)
    if array.shape[-1:] == (4,) and array.ndim in (1, 2):
        fx, fy, cx, cy = np.moveaxis(np.atleast_2d(array), -1, 0)
        mats = np.zeros((len(fx), 3, 3))
        mats[:, 0, 0], mats[:, 1, 1], mats[:, 0, 2], mats[:, 1, 2] = fx, fy, cx, cy
        mats[:, 2, 2] = 1.0
        array = mats[0] if np.asarray(cam_intr).ndim == 1 else mats
    mats = _per_image(array, num, (3, 3), 'cam_intr')
    if not (np.isfinite(mats).all() and (mats[:, 0, 0] > 0).all() and (mats[:, 1, 1] > 0).all()):
        raise ValueError(f'cam_intr: focal lengths must be finite and positive, got {mats}')
    return mats


def build_test_pipeline(cfg: Config) -> Compose:
    """The model config's test pipeline (``cfg.test_dataloader.dataset.pipeline``).

    Args:
        cfg: The model's config (``model.cfg`` after :func:`init_model`).

    Returns:
        The composed transforms (built in the config's default scope).

    Raises:
        KeyError: The config has no test pipeline.
    """
    try:
        pipeline = cfg.test_dataloader.dataset.pipeline
    except AttributeError:
        raise KeyError(f'config {getattr(cfg, "filename", None)} has no '
                       'test_dataloader.dataset.pipeline; inference builds its inputs with '
                       'the test pipeline (add one, as in configs/_base_/datasets/)') from None
    init_default_scope(cfg.get('default_scope', 'mmhandobj'))
    return Compose(pipeline)


def default_obj_model_root(cfg: Optional[Config]) -> Optional[str]:
    """``<data_root>/<obj_model_root>`` of the config's test dataset (``obj_model_root``
    defaults to ``'models'`` like in the dataset classes); None without a ``data_root``."""
    dataset = (cfg or {}).get('test_dataloader', {}).get('dataset', {})
    if not dataset.get('data_root'):
        return None
    return osp.join(dataset['data_root'], dataset.get('obj_model_root') or 'models')


def _image_input(img: ImageType, index: int) -> dict:
    """Results-dict entries of one image: ``img_path`` to read, or the given ``img``."""
    if isinstance(img, (str, Path)):
        return dict(img_path=str(img))
    img = np.asarray(img)
    if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
        raise ValueError(f'imgs[{index}]: expected an image path or an (H, W, 3) uint8 BGR '
                         f'array, got {img.dtype} {img.shape}')
    return dict(img=img, img_path='')


def _check_boxes_touch_image(hand_box: np.ndarray, obj_box: np.ndarray, index: int,
                             meta: dict) -> None:
    """Refuse a box that lies entirely outside its image (``ori_shape``, pixels)."""
    height, width = meta['ori_shape']
    for name, box in (('hand_bboxes', hand_box), ('obj_bboxes', obj_box)):
        if box[2] <= 0 or box[3] <= 0 or box[0] >= width or box[1] >= height:
            raise ValueError(f'{name}[{index}]: box {box.tolist()} lies entirely outside the '
                             f'{width}x{height} image {meta.get("img_path") or index}; give '
                             'x1y1x2y2 in pixels of that image')


def _names(value: Union[None, str, Sequence[str]], num: int) -> List[Optional[str]]:
    if value is None or isinstance(value, str):
        return [value] * num
    names = list(value)
    if len(names) != num:
        raise ValueError(f'obj_name: expected one name or {num}, got {len(names)}')
    return names


def inference_handobj(model: nn.Module, imgs: Union[ImageType, Sequence[ImageType]],
                      hand_bboxes, obj_bboxes, cam_intr,
                      obj_name: Union[None, str, Sequence[str]] = None,
                      obj_model_root: Union[None, str, ObjectModelBank] = None,
                      hand_side: Union[str, Sequence[str]] = 'right',
                      root_joint=None
                      ) -> Union[HandObjectDataSample, List[HandObjectDataSample]]:
    """Estimate the hand and object pose in one image or a batch of images.

    Args:
        model: A model from :func:`init_model` (``model.cfg`` supplies the test pipeline).
        imgs: An image path or ``(H, W, 3)`` uint8 BGR array (as ``cv2.imread`` gives), or a
            list of them (one forward pass for the whole list).
        hand_bboxes: Hand box x1y1x2y2 in original-image pixels, ``(4,)`` for every image or
            ``(N, 4)``.
        obj_bboxes: Object box, same format.
        cam_intr: Intrinsics of the original images: ``(3, 3)`` or ``(fx, fy, cx, cy)``,
            shared or one per image.
        obj_name: YCB object name(s) (one for all images or one per image). Required for the
            object pose; without it ``pred_instances`` holds no ``obj_rot``/``obj_trans``
            (the voted 2D keypoints ``obj_kps2d_img`` are still given).
        obj_model_root: Folder with ``<obj_name>/points.xyz``, or an
            :class:`~mmhandobj.datasets.object_models.ObjectModelBank` already reading one
            (a caller with many batches keeps one and its loaded models); defaults to the
            config's test dataset ``<data_root>/<obj_model_root>`` (``obj_model_root``
            ``'models'`` when unset).
        hand_side: ``'right'`` or ``'left'`` (per image or shared); left hands are mirrored.
        root_joint: Optional wrist position(s) in the camera, metres, ``(3,)`` or ``(N, 3)``.
            Stored as ``gt_instances.root_joint``; the visualiser then places the mesh there.

    Returns:
        One :class:`HandObjectDataSample` (or a list for a list input) with metainfo,
        ``gt_instances`` (the RoI boxes in crop pixels, ``obj_kps3d``, ``root_joint``) and
        ``pred_instances`` per the data-sample contract (hand ROOT-RELATIVE, see the module
        documentation).
    """
    single = not isinstance(imgs, (list, tuple))
    sources = [imgs] if single else list(imgs)
    num = len(sources)
    if num == 0:
        raise ValueError('imgs is empty')
    images = [_image_input(img, i) for i, img in enumerate(sources)]
    hand_boxes = _per_image(hand_bboxes, num, (4,), 'hand_bboxes')
    obj_boxes = _per_image(obj_bboxes, num, (4,), 'obj_bboxes')
    for name, boxes in (('hand_bboxes', hand_boxes), ('obj_bboxes', obj_boxes)):
        if not (np.isfinite(boxes).all() and (boxes[:, 2:] > boxes[:, :2]).all()):
            raise ValueError(f'{name}: boxes must be finite x1y1x2y2 with x2 > x1 and y2 > y1, '
                             f'got {boxes.tolist()}')
    intrinsics = as_intrinsics(cam_intr, num)
    sides = [hand_side] * num if isinstance(hand_side, str) else list(hand_side)
    if len(sides) != num or any(side not in ('right', 'left') for side in sides):
        raise ValueError(f"hand_side: expected 'right'/'left' once or per image, got {hand_side}")
    roots = None if root_joint is None else _per_image(root_joint, num, (3,), 'root_joint')
    names = _names(obj_name, num)
    cfg = getattr(model, 'cfg', None)
    if cfg is None:
        raise AttributeError('model has no cfg: build it with init_model (the test pipeline '
                             'of its config builds the inputs)')
    bank = None
    if any(name is not None for name in names):
        if isinstance(obj_model_root, ObjectModelBank):
            bank = obj_model_root
        else:
            root = obj_model_root or default_obj_model_root(cfg)
            if root is None:
                raise ValueError('obj_model_root is required with obj_name (the config has '
                                 'no test_dataloader.dataset.data_root to find object models '
                                 'in)')
            bank = ObjectModelBank(root)

    pipeline = build_test_pipeline(cfg)
    inputs, samples = [], []
    for i, image in enumerate(images):
        results = dict(
            **image, sample_idx=i, dataset_name='custom', hand_side=sides[i],
            ori_cam_intr=intrinsics[i].astype(np.float32),
            hand_box_hint=hand_boxes[i].astype(np.float32),
            obj_box_hint=obj_boxes[i].astype(np.float32))
        if names[i] is not None:
            results.update(obj_name=names[i], obj_kps3d=bank.keypoints3d(names[i]))
        if roots is not None:
            results['root_joint'] = roots[i].astype(np.float32)
        packed = pipeline(results)
        if packed is None:
            raise ValueError(f'imgs[{i}]: the test pipeline dropped the image (an '
                             "on_error='skip' loader?)")
        _check_boxes_touch_image(hand_boxes[i], obj_boxes[i], i,
                                 packed['data_samples'].metainfo)
        inputs.append(packed['inputs'])
        samples.append(packed['data_samples'])

    with torch.no_grad():
        samples = model.test_step(dict(inputs=inputs, data_samples=samples))
    return samples[0] if single else samples
