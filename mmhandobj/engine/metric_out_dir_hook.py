"""Send the files that metrics write into the run's work dir, validation and test apart."""
import os.path as osp
from typing import Any

from mmengine.hooks import Hook

from mmhandobj.registry import HOOKS

#: Sub-folder of the work dir for the files written by validation (during training too).
VAL_OUT_SUBDIR = 'val'
#: Sub-folder of the work dir for the files written by ``runner.test()`` (``tools/test.py``).
TEST_OUT_SUBDIR = 'test'


@HOOKS.register_module()
class MetricOutDirHook(Hook):
    """Give every metric that writes files a folder of the run's work dir.

    Configs carry no output paths. A metric that writes files has an ``out_dir`` attribute
    (``HO3DMetric``: ``pred.json``, ``pred.zip``, ``scores.txt``); where it is None, this hook
    sets it when a loop starts: ``<work_dir>/val`` for validation (each validation of a
    training run overwrites the previous one's files) and ``<work_dir>/test`` for
    ``runner.test()``, so a validation never overwrites the test submission and two runs never
    share a folder. An ``out_dir`` given explicitly is kept. Outside a runner (a metric built
    and called directly) nothing sets it and such a metric writes nothing.

    Args:
        val_subdir: Sub-folder of the work dir for validation.
        test_subdir: Sub-folder of the work dir for testing.
    """

    priority = 'NORMAL'

    def __init__(self, val_subdir: str = VAL_OUT_SUBDIR,
                 test_subdir: str = TEST_OUT_SUBDIR) -> None:
        if val_subdir == test_subdir:
            raise ValueError(f'val_subdir and test_subdir must differ (both {val_subdir!r}): '
                             'a validation would overwrite the test files')
        self.val_subdir = val_subdir
        self.test_subdir = test_subdir

    @staticmethod
    def _point(evaluator: Any, out_dir: str) -> None:
        for metric in getattr(evaluator, 'metrics', []):
            if hasattr(metric, 'out_dir') and metric.out_dir is None:
                metric.out_dir = out_dir

    def before_val(self, runner: Any) -> None:
        self._point(runner.val_loop.evaluator, osp.join(runner.work_dir, self.val_subdir))

    def before_test(self, runner: Any) -> None:
        self._point(runner.test_loop.evaluator, osp.join(runner.work_dir, self.test_subdir))
