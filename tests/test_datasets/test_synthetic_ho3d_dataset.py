import os
import os.path as osp

from mmengine.registry import init_default_scope

from mmhandobj.datasets import SyntheticHO3DDataset
from mmhandobj.datasets.synthetic import is_complete_world
from mmhandobj.registry import DATASETS


def test_generates_once_then_loads(tmp_path):
    init_default_scope('mmhandobj')
    root = str(tmp_path / 'synthetic' / 'ho3d')
    cfg = dict(type='SyntheticHO3DDataset', data_root=root, num_frames=8, seed=3,
               split='train', val_sequences=['GPMF10'])
    train = DATASETS.build(cfg)
    assert is_complete_world(root)
    assert sorted(os.listdir(osp.dirname(root))) == ['ho3d']  # no temporary folder left
    val = DATASETS.build(dict(cfg, split='val', test_mode=True))
    evaluation = SyntheticHO3DDataset(data_root=root, num_frames=8, split='evaluation',
                                      test_mode=True)
    with open(osp.join(root, 'train.txt')) as f:
        assert len(train) + len(val) == len(f.read().split())
    assert len(val) > 0 and len(evaluation) > 0
    stamp = osp.getmtime(osp.join(root, 'annotations', 'ho3d_v2_train.npz'))
    again = SyntheticHO3DDataset(data_root=root, num_frames=8, split='train')
    assert len(again) == len(train) + len(val)
    assert osp.getmtime(osp.join(root, 'annotations', 'ho3d_v2_train.npz')) == stamp


def _ensure(root):
    from mmhandobj.datasets.synthetic_ho3d import ensure_synthetic_ho3d
    ensure_synthetic_ho3d(root, 8, 5, 'v2')


def test_concurrent_ranks_generate_one_world(tmp_path):
    import multiprocessing
    root = str(tmp_path / 'ho3d')
    ctx = multiprocessing.get_context('fork')
    procs = [ctx.Process(target=_ensure, args=(root, )) for _ in range(2)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert os.listdir(tmp_path) == ['ho3d'] and is_complete_world(root)
    assert len(SyntheticHO3DDataset(data_root=root, num_frames=8, seed=5)) == 6
