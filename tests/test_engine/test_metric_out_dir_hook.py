"""MetricOutDirHook: metrics write into <work_dir>/val and <work_dir>/test, never the same file."""
import os

import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from mmhandobj.engine import MetricOutDirHook
from mmhandobj.registry import HOOKS


class _Numbers(Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, index):
        return dict(inputs=torch.tensor([float(index)]))


class _Identity(BaseModel):
    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return [dict(value=float(x)) for x in inputs.flatten()]


class _FileMetric(BaseMetric):
    """Writes the values it saw to ``<out_dir>/values.txt`` (when it has an out_dir)."""

    def __init__(self, out_dir=None):
        super().__init__()
        self.out_dir = out_dir

    def process(self, data_batch, data_samples):
        self.results.extend(s['value'] for s in data_samples)

    def compute_metrics(self, results):
        if self.out_dir is not None:
            os.makedirs(self.out_dir, exist_ok=True)
            with open(os.path.join(self.out_dir, 'values.txt'), 'w') as f:
                f.write(' '.join(str(v) for v in sorted(results)))
        return dict(count=len(results))


def _runner(work_dir, val_metric, test_metric):
    loader = dict(dataset=_Numbers(), sampler=dict(type='DefaultSampler', shuffle=False),
                  batch_size=2, collate_fn=dict(type='default_collate'))
    return Runner(model=_Identity(), work_dir=str(work_dir), val_dataloader=loader,
                  val_cfg=dict(), val_evaluator=Evaluator([val_metric]), test_dataloader=loader,
                  test_cfg=dict(), test_evaluator=Evaluator([test_metric]),
                  custom_hooks=[HOOKS.build(dict(type='MetricOutDirHook'))],
                  default_hooks=dict(checkpoint=None), default_scope='mmhandobj')


def test_val_and_test_write_into_their_own_subfolders(tmp_path):
    explicit = str(tmp_path / 'mine')
    val_metric, test_metric = _FileMetric(), _FileMetric()
    runner = _runner(tmp_path / 'work', val_metric, test_metric)
    runner.val()
    runner.test()
    assert val_metric.out_dir == str(tmp_path / 'work' / 'val')
    assert test_metric.out_dir == str(tmp_path / 'work' / 'test')
    for split in ('val', 'test'):
        assert (tmp_path / 'work' / split / 'values.txt').read_text() == '0.0 1.0 2.0 3.0'
    # an explicit folder is kept
    kept = _FileMetric(out_dir=explicit)
    _runner(tmp_path / 'other', _FileMetric(), kept).test()
    assert kept.out_dir == explicit and os.path.isfile(os.path.join(explicit, 'values.txt'))
    assert not (tmp_path / 'other' / 'test').exists()


def test_same_subfolders_are_refused():
    with pytest.raises(ValueError, match='must differ'):
        MetricOutDirHook(val_subdir='out', test_subdir='out')
