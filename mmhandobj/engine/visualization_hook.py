"""Draw validation/test predictions with :class:`HandObjectVisualizer`."""
import os.path as osp
from typing import Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import get_rank
from mmengine.fileio import get as get_file
from mmengine.hooks import Hook
from mmengine.utils import mkdir_or_exist

from mmhandobj.registry import HOOKS
from mmhandobj.structures import HandObjectDataSample
from mmhandobj.visualization import HandObjectVisualizer, find_mano_layer


@HOOKS.register_module()
class HandObjectVisualizationHook(Hook):
    """Visualise hand-object predictions during validation and testing.

    Behaviour (that of mmpose's ``PoseVisualizationHook``):

    * validation: every ``interval`` iterations (counted as ``runner.iter + batch_idx``) the
      first sample of the batch is drawn (GT and prediction side by side) and sent to the
      visualiser's backends (e.g. TensorBoard);
    * test: every sample is drawn; with ``test_out_dir`` the pictures are written to
      ``<work_dir>/<timestamp>/<test_out_dir>`` (an absolute ``test_out_dir`` is used as is) as
      ``<sample_idx:06d>_<image file name>``, otherwise they go to the backends.

    The runner's visualiser must be a :class:`HandObjectVisualizer` (config:
    ``visualizer = dict(type='HandObjectVisualizer', ...)``). When it has no MANO faces, the
    faces of the model's ``ManoLayer`` are used, so meshes are drawn without extra set-up.
    In distributed testing every rank writes the pictures of its share of the samples into the
    same folder (the timestamp is shared), so ``test_out_dir`` receives all of them; windows and
    backends are used by rank 0 only.

    Args:
        enable (bool): Draw anything at all. ``tools/test.py --show-dir DIR`` sets it to True
            and ``test_out_dir`` to ``DIR``.
        interval (int): Validation drawing interval in iterations (unused in testing).
        show (bool): Also show every picture in a window (the backends are then not used).
        wait_time (float): Seconds to wait when showing (0 = until a key is pressed).
        test_out_dir (str, optional): Output folder of test pictures (see above).
        draw_gt (bool): Draw the ground-truth panel when the sample has GT.
        backend_args (dict, optional): MMEngine file backend arguments to read the images.
    """

    priority = 'NORMAL'

    def __init__(self, enable: bool = False, interval: int = 50, show: bool = False,
                 wait_time: float = 0., test_out_dir: Optional[str] = None,
                 draw_gt: bool = True, backend_args: Optional[dict] = None) -> None:
        if interval < 1:
            raise ValueError(f'interval must be >= 1, got {interval}')
        self.enable = enable
        self.interval = interval
        self.show = show
        self.wait_time = wait_time
        self.test_out_dir = test_out_dir
        self.draw_gt = draw_gt
        self.backend_args = backend_args
        self._out_dir: Optional[str] = None

    def _visualizer(self, runner) -> HandObjectVisualizer:
        """The runner's visualiser, given the model's MANO faces when it has none."""
        visualizer = runner.visualizer
        if not isinstance(visualizer, HandObjectVisualizer):
            raise TypeError('HandObjectVisualizationHook needs the runner visualizer to be a '
                            "HandObjectVisualizer (set visualizer = dict(type='HandObject"
                            f"Visualizer', ...) in the config), got {type(visualizer).__name__}")
        if self.show:
            visualizer._vis_backends = {}
        model = getattr(runner, 'model', None)
        if visualizer.mano_faces is None and model is not None:
            visualizer.set_mano_faces(find_mano_layer(model))
        return visualizer

    def _read_image(self, sample: HandObjectDataSample) -> np.ndarray:
        """The sample's original image, RGB."""
        img_path = sample.metainfo.get('img_path')
        if not img_path:
            raise KeyError('HandObjectVisualizationHook: metainfo img_path is missing')
        return mmcv.imfrombytes(get_file(img_path, backend_args=self.backend_args),
                                channel_order='rgb')

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[HandObjectDataSample]) -> None:
        """Draw the first sample of every ``interval``-th validation batch to the backends."""
        if not self.enable or not outputs or get_rank() != 0:
            return  # validation pictures only go to rank 0's backends
        step = runner.iter + batch_idx
        if step % self.interval:
            return
        sample = outputs[0]
        name = f"val_{osp.basename(sample.metainfo.get('img_path', ''))}"
        self._visualizer(runner).add_datasample(
            name, self._read_image(sample), sample, draw_gt=self.draw_gt, show=self.show,
            wait_time=self.wait_time, step=step)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[HandObjectDataSample]) -> None:
        """Draw every test sample; write it under ``test_out_dir`` when set."""
        if not self.enable:
            return
        visualizer = self._visualizer(runner)
        if self.test_out_dir is not None and self._out_dir is None:
            self._out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            mkdir_or_exist(self._out_dir)
        for sample in outputs:
            name = osp.basename(sample.metainfo.get('img_path', ''))
            index = int(sample.metainfo.get('sample_idx', batch_idx))
            out_file = (None if self._out_dir is None
                        else osp.join(self._out_dir, f'{index:06d}_{name}'))
            visualizer.add_datasample(
                f'test_{index:06d}_{name}', self._read_image(sample), sample,
                draw_gt=self.draw_gt, show=self.show, wait_time=self.wait_time,
                out_file=out_file, step=index)
