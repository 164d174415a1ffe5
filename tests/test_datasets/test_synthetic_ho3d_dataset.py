import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
from mmengine.registry import init_default_scope

from mmhandobj.registry import DATASETS
from mmhandobj.synthetic import (
    COMPLETE_MARKER,
    WORLD_VERSION,
    SyntheticHO3DDataset,
    is_complete_world,
)


def test_generates_once_then_loads(tmp_path):
    init_default_scope('mmhandobj')
    root = str(tmp_path / 'synthetic' / 'ho3d')
    cfg = dict(type='SyntheticHO3DDataset', data_root=root, num_frames=8, seed=3,
               split='train', val_sequences=['GPMF10'])
    train = DATASETS.build(cfg)
    assert is_complete_world(root)
    # no temporary folder left; the lock file stays (an flock lock file is never removed)
    assert sorted(os.listdir(osp.dirname(root))) == ['ho3d', 'ho3d.lock']
    val = DATASETS.build(dict(cfg, split='val', test_mode=True))
    evaluation = SyntheticHO3DDataset(data_root=root, num_frames=8, seed=3, split='evaluation',
                                      test_mode=True)
    with open(osp.join(root, 'train.txt')) as f:
        assert len(train) + len(val) == len(f.read().split())
    assert len(val) > 0 and len(evaluation) > 0
    stamp = osp.getmtime(osp.join(root, 'annotations', 'ho3d_v2_train.npz'))
    again = SyntheticHO3DDataset(data_root=root, num_frames=8, seed=3, split='train')
    assert len(again) == len(train) + len(val)
    assert osp.getmtime(osp.join(root, 'annotations', 'ho3d_v2_train.npz')) == stamp

    # a world made with other arguments, or by an older generator, is refused, not reused
    with pytest.raises(FileExistsError, match=r'seed 3 \(wanted 0\)'):
        SyntheticHO3DDataset(data_root=root, num_frames=8, seed=0, split='train')
    with pytest.raises(FileExistsError, match=r'num_frames 8 \(wanted 16\)'):
        SyntheticHO3DDataset(data_root=root, num_frames=16, seed=3, split='train')
    marker = osp.join(root, COMPLETE_MARKER)
    with open(marker) as f:
        summary = json.load(f)
    assert summary['world_version'] == WORLD_VERSION
    del summary['world_version']  # as written before versions existed
    with open(marker, 'w') as f:
        json.dump(summary, f)
    with pytest.raises(FileExistsError, match=rf'world_version 1 \(wanted {WORLD_VERSION}\)'):
        SyntheticHO3DDataset(data_root=root, num_frames=8, seed=3, split='train')


def test_concurrent_ranks_generate_one_world(tmp_path):
    """Two processes (as two DDP ranks) start on a missing world at the same time."""
    root = str(tmp_path / 'ho3d')
    code = ('import sys; from mmhandobj.synthetic import ensure_synthetic_ho3d; '
            'ensure_synthetic_ho3d(sys.argv[1], 8, 5, "v2")')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    procs = [subprocess.Popen([sys.executable, '-c', code, root], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [proc.communicate(timeout=600)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    assert sorted(os.listdir(tmp_path)) == ['ho3d', 'ho3d.lock'] and is_complete_world(root)
    assert len(SyntheticHO3DDataset(data_root=root, num_frames=8, seed=5)) == 6


def test_generation_workers_do_not_change_the_world(tmp_path):
    """``gen_workers`` only spreads the sequences over processes: the same world files, byte for
    byte, and the same annotation arrays (the ``.npz`` archives hold write times
    and the source folder)."""
    roots = [str(tmp_path / f'w{workers}') for workers in (1, 2)]
    for root, workers in zip(roots, (1, 2)):
        SyntheticHO3DDataset(data_root=root, num_frames=8, seed=3, gen_workers=workers)

    def files(root):
        out = {}
        for folder, _, names in os.walk(root):
            for name in names:
                with open(osp.join(folder, name), 'rb') as f:
                    out[osp.relpath(osp.join(folder, name), root)] = f.read()
        return out

    one, two = files(roots[0]), files(roots[1])
    assert sorted(one) == sorted(two) and any(k.endswith('.png') for k in one)
    assert [k for k in one if one[k] != two[k] and not k.endswith('.npz')] == []
    for key in (k for k in one if k.endswith('.npz')):
        with np.load(osp.join(roots[0], key), allow_pickle=True) as a, \
                np.load(osp.join(roots[1], key), allow_pickle=True) as b:
            assert sorted(a.files) == sorted(b.files)
            for name in a.files:
                if name != '__meta__':  # JSON header, names the (temporary) source folder
                    np.testing.assert_array_equal(a[name], b[name], err_msg=f'{key}:{name}')
