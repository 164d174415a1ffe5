"""Throughput of the training data pipeline, against a PIL re-implementation of the reference.

Prints: annotation-load time of a 66,034-frame annotation file (the HO3D v2 train size, rows of
the config's own file tiled with jitter), the pickled size of the loaded dataset, samples/s of
the mmhandobj training pipeline in this process (one core), of a faithful PIL-based
re-implementation of the HFL-Net reference per-sample steps on the same frames (PIL
``Image.AFFINE`` NEAREST warp, ``ImageFilter.GaussianBlur``, torchvision ``ColorJitter``,
``to_tensor``, PIL mask crop/resize), their ratio, the decode time of one image with each library
(PNG decoding bounds the ratio for HO3D v2), and samples/s of the training dataloader with
``--workers`` worker processes.
"""
import argparse
import os
import os.path as osp
import pickle
import tempfile
import time
from typing import Callable, Dict, List, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from PIL import Image

from mmhandobj.datasets.annotation_file import (
    decode_mask,
    load_annotation_file,
    save_annotation_file,
)
from mmhandobj.datasets.transforms import read_image
from mmhandobj.datasets.transforms.geometry import (
    bbox_from_points,
    crop_matrix,
    fuse_boxes,
    rotate_axis_angle,
)
from mmhandobj.registry import DATASETS

HO3D_TRAIN_FRAMES = 66034


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark the training data pipeline of CONFIG (its train_dataloader '
        'dataset must exist on disk; configs/_base_/datasets/synthetic_ho3d.py generates its '
        'own). Prints annotation-load time for a 66k-frame file, single-process samples/s of '
        'our pipeline and of a PIL re-implementation of the HFL-Net reference (and the '
        'ratio), and dataloader samples/s with --workers processes.')
    parser.add_argument('config', help='config with a train_dataloader')
    parser.add_argument('--samples', type=int, default=200,
                        help='samples timed per single-process measurement (default 200)')
    parser.add_argument('--workers', type=int, default=2,
                        help='dataloader workers for the multi-process measurement (default 2; '
                        '0 skips it)')
    parser.add_argument('--batch-size', type=int, default=8, help='dataloader batch size')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. '
                        'train_dataloader.dataset.version=v3')
    return parser.parse_args()


def time_annotation_load(dataset_cfg: Dict, dataset) -> None:
    """Tile the dataset's annotation rows to the HO3D train size and time a full load."""
    columns, meta = load_annotation_file(dataset.ann_file)
    num = len(columns['img_path'])
    reps = np.arange(HO3D_TRAIN_FRAMES) % num
    rng = np.random.default_rng(0)
    frames = []
    for i in reps:
        rec = {key: columns[key][i] for key in columns if key not in ('mask_rle', 'mask_offsets')}
        for key in ('img_path', 'sequence', 'frame_key'):
            rec[key] = rec[key].decode('utf-8')
        rec['joints2d'] = rec['joints2d'] + rng.normal(0, 0.5, (21, 2)).astype(np.float32)
        start, end = columns['mask_offsets'][i], columns['mask_offsets'][i + 1]
        rec['mask_rle'] = columns['mask_rle'][start:end].tobytes()
        frames.append(rec)
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'tiled.npz')
        meta = {k: v for k, v in meta.items() if k not in ('format', 'format_version')}
        save_annotation_file(path, frames, meta)
        cfg = dict(dataset_cfg, ann_file=path, pipeline=[], lazy_init=True)
        big = DATASETS.build(cfg)
        start = time.perf_counter()
        big.full_init()
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        blob = pickle.dumps(big)
        pickle_s = time.perf_counter() - start
        size_mb = os.path.getsize(path) / 2**20
    print(f'annotation load: {HO3D_TRAIN_FRAMES} frames ({size_mb:.1f} MiB file) -> '
          f'{len(big)} samples in {load_s:.2f} s; pickled dataset {len(blob) / 2**20:.1f} MiB '
          f'in {pickle_s:.2f} s')


def reference_pil_sample(info: dict, rot_mode: str) -> Dict[str, torch.Tensor]:
    """HFL-Net reference per-sample training steps with PIL/torchvision (for comparison)."""
    from PIL import ImageFilter
    from torchvision.transforms import ColorJitter
    from torchvision.transforms.functional import to_tensor
    img = Image.open(info['img_path']).convert('RGB')
    height, width = info['ori_shape']
    mask = Image.fromarray(decode_mask(info['obj_mask_rle'], height, width) * 255)
    joints, kps = info['joints2d'], info['obj_kps2d']
    centre, scale = fuse_boxes(bbox_from_points(joints, 1.5), bbox_from_points(kps, 1.5),
                               (width, height))
    centre = centre + 0.1 * scale * np.random.uniform(-1, 1, 2)
    scale *= np.clip(1 + 0.2 * np.random.randn(), 0.8, 1.2)
    if rot_mode == 'uniform':
        rot = np.random.uniform(-np.pi, np.pi)
    else:
        rot = np.clip(np.random.randn(), -2, 2) * np.pi / 6 if np.random.rand() <= 0.6 else 0.0
    c, s = np.cos(rot), np.sin(rot)
    rot2 = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])
    rc = rot2 @ np.array([centre[0], centre[1], 1.0])
    total = crop_matrix(rc[:2], scale, (256, 256)) @ rot2
    cam = info['ori_cam_intr']
    pp = np.array([[1, 0, cam[0, 2]], [0, 1, cam[1, 2]], [0, 0, 1]])
    c_k = pp @ rot2 @ np.linalg.inv(pp) @ np.array([centre[0], centre[1], 1.0])
    new_k = crop_matrix(c_k[:2], scale, (256, 256)) @ cam
    joints = joints @ total[:2, :2].T + total[:2, 2]
    kps = kps @ total[:2, :2].T + total[:2, 2]
    pose = np.array(info['mano_pose'])
    pose[:3] = rotate_axis_angle(pose[:3], rot2)
    hand_box = bbox_from_points(joints, 1.1)
    obj_box = bbox_from_points(kps, 1.0)
    inv = np.linalg.inv(total)[:2].flatten()
    img = img.transform((256, 256), Image.AFFINE, inv, resample=Image.NEAREST)
    img = img.crop((0, 0, 256, 256))
    img = img.filter(ImageFilter.GaussianBlur(radius=np.random.uniform(0, 0.5)))
    img = ColorJitter(brightness=0.5, saturation=0.5, hue=0.15, contrast=0.5)(img)
    mask = mask.transform((256, 256), Image.AFFINE, inv, resample=Image.NEAREST)
    mask = mask.crop(tuple(obj_box.tolist())).resize((32, 32), Image.NEAREST)
    return dict(img=to_tensor(img), mask=torch.from_numpy((np.asarray(mask) != 0).astype(int)),
                hand_box=torch.from_numpy(hand_box), joints=torch.from_numpy(joints),
                kps=torch.from_numpy(kps), cam=torch.from_numpy(new_k),
                pose=torch.from_numpy(pose))


def interleaved_rates(fns: Sequence[Callable[[int], object]],
                      num: int) -> List[Tuple[float, float]]:
    """Samples per second of each ``fn(i)``, calls interleaved so all see the same load.

    Five warm-up calls each are not timed.

    Returns:
        Per function ``(samples per wall-clock second, samples per CPU second of this
        process)``; the CPU rate is the per-core throughput, insensitive to other processes
        competing for the cores.
    """
    for i in range(5):
        for fn in fns:
            fn(i)
    wall = [0.0] * len(fns)
    cpu = [0.0] * len(fns)
    for i in range(num):
        for k, fn in enumerate(fns):
            start, start_cpu = time.perf_counter(), time.process_time()
            fn(i)
            wall[k] += time.perf_counter() - start
            cpu[k] += time.process_time() - start_cpu
    return [(num / w, num / c) for w, c in zip(wall, cpu)]


def main() -> None:
    args = parse_args()
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmhandobj'))
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(dataset_cfg)
    time_annotation_load(dataset_cfg, dataset)
    rot_mode = next((t.get('rot_mode', 'none') for t in dataset_cfg.pipeline
                     if t['type'] == 'GetHandObjectCrop'), 'none')
    num = len(dataset)
    infos = [dataset.get_data_info(i % num) for i in range(min(num, args.samples))]
    ours, ref, ours_decode, ref_decode = interleaved_rates(
        [lambda i: dataset[i % num],
         lambda i: reference_pil_sample(infos[i % len(infos)], rot_mode),
         lambda i: read_image(infos[i % len(infos)]['img_path']),
         lambda i: Image.open(infos[i % len(infos)]['img_path']).convert('RGB')],
        args.samples)
    print(f'image decode alone (CPU): mmhandobj read_image (libspng for PNG, else OpenCV) '
          f'{1000 / ours_decode[1]:.2f} ms, PIL {1000 / ref_decode[1]:.2f} ms per image')
    for label, k in (('wall clock', 0), ('CPU time', 1)):
        print(f'single process ({label}): mmhandobj {ours[k]:.1f} samples/s, PIL reference '
              f'{ref[k]:.1f} samples/s, ratio {ours[k] / ref[k]:.2f}x')
    if args.workers > 0:
        loader = torch.utils.data.DataLoader(
            dataset, batch_size=args.batch_size, shuffle=True, num_workers=args.workers,
            collate_fn=pseudo_collate, persistent_workers=False)
        iterator = iter(loader)
        next(iterator)
        start, count = time.perf_counter(), 0
        for batch in iterator:
            count += len(batch['inputs'])
            if count >= args.samples:
                break
        elapsed = time.perf_counter() - start
        print(f'dataloader, {args.workers} workers: {count / elapsed:.1f} samples/s '
              f'({count / elapsed / args.workers:.1f} per worker)')


if __name__ == '__main__':
    main()
