"""The quick start's world generation killed (SIGKILL) at two points: the next run works."""
import glob
import os
import signal
import subprocess
import sys
import time

import numpy as np

from mmhandobj.synthetic import read_world_summary
from mmhandobj.synthetic.ho3d_dataset import ensure_synthetic_ho3d

#: Frames of the tiny world (the smallest HO3D world is 4 frames).
FRAMES = 8
#: Seconds allowed for the generation subprocess to reach a kill point.
REACH_S = 240


def _kill_when(root: str, pattern: str) -> None:
    """Start a generation of ``root`` and SIGKILL it once ``pattern`` (a glob) exists."""
    code = ('from mmhandobj.synthetic.ho3d_dataset import ensure_synthetic_ho3d; '
            f'ensure_synthetic_ho3d({root!r}, {FRAMES}, 0, "v2")')
    proc = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env={**os.environ, 'PYTHONPATH': os.getcwd()})
    deadline = time.monotonic() + REACH_S
    try:
        while not glob.glob(pattern):
            assert proc.poll() is None, f'generation ended before {pattern} appeared'
            assert time.monotonic() < deadline
            time.sleep(0.005)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_generation_killed_twice_leaves_nothing_the_next_run_trips_over(tmp_path):
    root = str(tmp_path / 'ho3d')
    _kill_when(root, root + '.tmp*')  # right after the temporary folder is made
    _kill_when(root, root + '.tmp*' + '.tmp-*')  # while the world is being rendered
    assert glob.glob(root + '.tmp*')  # the kills did leave leftovers
    ensure_synthetic_ho3d(root, FRAMES, 0, 'v2')
    assert sorted(os.listdir(tmp_path)) == ['ho3d', 'ho3d.lock']
    summary = read_world_summary(root)
    assert sum(summary['frames'].values()) == FRAMES
    train = np.load(os.path.join(root, 'annotations', 'ho3d_v2_train.npz'))
    assert len(train.files) > 0
