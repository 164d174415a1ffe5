"""Time the physical plausibility metric on an HO3D-v2-sized set of synthetic frames.

Builds one :class:`~mmhandobj.evaluation.functional.ObjectContactGrid` per object class (the
synthetic world's models of the HO3D v2 evaluation objects), places posed stand-in MANO hands
at random rigid poses against the objects (penetrating, touching or apart), and scores every
frame twice (a prediction row and a reference row), as
:class:`~mmhandobj.evaluation.metrics.HandObjectContactMetric` does. Then it compares the first
``--check`` frames with the exact functions (brute-force distances and winding numbers,
lattices in the camera frame instead of the model frame).

Example::

    python tools/analysis_tools/benchmark_physical.py --frames 11524 --check 200
"""
import argparse
import time

import numpy as np
import torch
from scipy.spatial.transform import Rotation

from mmhandobj.evaluation.functional import (
    ObjectContactGrid,
    hand_object_distance,
    intersection_volume,
    intersection_volume_obman,
)
from mmhandobj.models.mano import ManoLayer
from mmhandobj.synthetic.objects import build_object

#: The HO3D v2 evaluation split's objects.
OBJECTS = ('006_mustard_bottle', '010_potted_meat_can', '021_bleach_cleanser',
           '019_pitcher_base')
NUM_HAND_POSES = 64
#: Finger flexion of the random hand poses, radians (uniform up to this).
MAX_FLEXION = 1.2
#: Distance of the hand centroid beyond a random object surface point, metres.
OFFSET_RANGE = (0.01, 0.05)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--frames', type=int, default=11524, help='frames to score')
    parser.add_argument('--check', type=int, default=200,
                        help='frames compared with the exact functions')
    parser.add_argument('--voxel-size', type=float, default=0.002, help='metres')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args()


def hand_poses(rng: np.random.Generator):
    """``(NUM_HAND_POSES, 778, 3)`` posed stand-in hands (metres, centred) and the faces."""
    layer = ManoLayer(standin_seed=0, use_pca=False, units='m', center_idx=None)
    pose = np.zeros((NUM_HAND_POSES, 48))
    flex = rng.uniform(0, MAX_FLEXION, (NUM_HAND_POSES, 15))
    pose[:, 3:] = np.stack([np.zeros_like(flex), np.zeros_like(flex), flex], 2).reshape(-1, 45)
    with torch.no_grad():
        verts, _ = layer(torch.as_tensor(pose, dtype=torch.float32),
                         torch.zeros(NUM_HAND_POSES, 10))
    verts = verts.double().numpy()
    return verts - verts.mean(axis=1, keepdims=True), layer.faces.numpy()


def place(rng: np.random.Generator, hands: np.ndarray, obj, num: int):
    """Hands in the object's model frame: random rotation, centroid beyond a surface point."""
    centre = obj.points.mean(axis=0)
    points = obj.points[rng.integers(0, len(obj.points), num)]
    normal = points - centre
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    offset = rng.uniform(*OFFSET_RANGE, num)[:, None]
    rot = Rotation.random(num, random_state=rng.integers(1 << 31)).as_matrix()
    chosen = hands[rng.integers(0, len(hands), num)]
    return np.einsum('nkj,nij->nki', chosen, rot) + (points + normal * offset)[:, None]


def main() -> None:
    args = parse_args()
    rng = np.random.default_rng(args.seed)
    hands, faces = hand_poses(rng)
    models = [build_object(name) for name in OBJECTS]
    labels = rng.integers(0, len(models), args.frames)
    frames = {i: place(rng, hands, models[i], int((labels == i).sum())) for i in
              range(len(models))}

    start = time.perf_counter()
    grids = [ObjectContactGrid(m.vertices, m.faces, spacing=args.voxel_size) for m in models]
    built = time.perf_counter()
    scores = {}
    for i, grid in enumerate(grids):
        for row in ('pred', 'gt'):   # the metric scores the prediction and the reference
            scores[(i, row)] = grid.evaluate(frames[i], faces)
    done = time.perf_counter()
    print(f'{args.frames} frames x 2 rows, {len(models)} classes, voxel '
          f'{args.voxel_size * 1e3:g} mm: grids {built - start:.1f} s, frames '
          f'{done - built:.1f} s, total {done - start:.1f} s')

    # Exact comparison on the first frames of each class (camera frame = a random pose).
    per_class = max(1, args.check // len(models))
    rows = []
    for i, model in enumerate(models):
        hand = frames[i][:per_class]
        rot = Rotation.random(random_state=i).as_matrix()
        trans = np.array([0.05, -0.02, 0.6])
        obj_cam = model.vertices @ rot.T + trans
        hand_cam = hand @ rot.T + trans
        exact = (hand_object_distance(hand_cam, obj_cam, model.faces),
                 intersection_volume(hand_cam, faces, obj_cam, model.faces, args.voxel_size),
                 intersection_volume_obman(hand_cam, faces, obj_cam, model.faces))
        grid = scores[(i, 'pred')]
        rows.append((exact, (grid['distance'][:per_class], grid['intersection_volume'][:per_class],
                             grid['intersection_volume_obman'][:per_class])))
    exact = [np.concatenate([r[0][k] for r in rows]) for k in range(3)]
    fast = [np.concatenate([r[1][k] for r in rows]) for k in range(3)]
    dist_err = np.abs(exact[0] - fast[0]) * 1e3
    print(f'{len(exact[0])} frames against the exact functions:')
    print(f'  signed distance: |error| mean {dist_err.mean():.3f} mm, max {dist_err.max():.3f} mm;'
          f' penetrating frames {np.mean(exact[0] < 0):.0%}')
    for k, name in ((1, 'solid volume'), (2, 'ObMan volume')):
        print(f'  {name}: mean {fast[k].mean() * 1e6:.3f} cm3 (grid) vs '
              f'{exact[k].mean() * 1e6:.3f} cm3 (exact), per-frame |diff| mean '
              f'{np.abs(fast[k] - exact[k]).mean() * 1e6:.3f} cm3')
    all_solid = np.concatenate([scores[(i, 'pred')]['intersection_volume'] for i in frames])
    all_obman = np.concatenate([scores[(i, 'pred')]['intersection_volume_obman']
                                for i in frames])
    print(f'  all frames: solid {all_solid.mean() * 1e6:.2f} cm3, ObMan '
          f'{all_obman.mean() * 1e6:.2f} cm3')


if __name__ == '__main__':
    main()
