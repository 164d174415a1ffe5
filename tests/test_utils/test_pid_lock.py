import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from mmhandobj.utils import PidLock, PidLockError, load_tool_config

CONFIG = str(Path(__file__).parents[2] / 'configs' / 'hfl' / 'hfl_r18_synthetic.py')


def test_lock_is_refused_while_held_and_its_file_alone_locks_nothing(tmp_path):
    path = str(tmp_path / '.train.lock')
    with PidLock(path, 'work dir X'):
        assert open(path).read().split()[0] == str(os.getpid())
        with pytest.raises(PidLockError, match=rf'work dir X is in use by process '
                           rf'{os.getpid()} \(lock file {path}\)'):
            PidLock(path, 'work dir X').acquire()
    assert os.path.getsize(path) == 0  # kept (never removed), emptied
    sleeper = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:  # a file naming a running process that holds no flock is no lock
        with open(path, 'w') as f:
            f.write(f'{sleeper.pid} {socket.gethostname()}\n')
        with PidLock(path, 'work dir X'):
            assert open(path).read().split()[0] == str(os.getpid())
    finally:
        sleeper.kill()
        sleeper.wait()


def test_top_level_cfg_options_typo_is_refused():
    args = argparse.Namespace(config=CONFIG, cfg_options={'load_form': 'x.pth'}, work_dir=None,
                              local_rank=0)
    with pytest.raises(SystemExit, match=r"unknown top-level key\(s\) 'load_form' \(did you "
                       r"mean 'load_from'"):
        load_tool_config(args)
    # keys of the config and keys the Runner reads are accepted
    args.cfg_options = {'train_cfg.max_epochs': 2, 'load_from': 'a.pth', 'launcher': 'none',
                        'experiment_name': 'x'}
    cfg = load_tool_config(args)
    assert cfg.train_cfg.max_epochs == 2 and cfg.load_from == 'a.pth'
