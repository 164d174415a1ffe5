"""The work-dir lock under racing starters, a stale lock file and a full disk (real processes)."""
import multiprocessing
import os
import socket
import subprocess
import sys
import time

import pytest

from mmhandobj.utils import PidLock, PidLockError

#: Simultaneous starters of the race test.
STARTERS = 40
#: Seconds each starter holds the lock (long enough for the others to collide with it).
HOLD_S = 0.01


def _starter(path: str, log: str, barrier) -> None:
    """Wait for all starters, take the lock (retrying when refused), log enter/exit."""
    barrier.wait()
    while True:
        try:
            lock = PidLock(path, 'work dir X').acquire()
        except PidLockError:
            time.sleep(0.001)
            continue
        break
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.write(fd, f'enter {os.getpid()}\n'.encode())
    time.sleep(HOLD_S)
    os.write(fd, f'exit {os.getpid()}\n'.encode())
    os.close(fd)
    lock.release()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, '-c', 'pass'])
    proc.wait()
    return proc.pid


def test_forty_starters_with_a_stale_lock_hold_it_one_at_a_time(tmp_path):
    path, log = str(tmp_path / '.train.lock'), str(tmp_path / 'log')
    with open(path, 'w') as f:  # stale: its process is gone
        f.write(f'{_dead_pid()} {socket.gethostname()}\n')
    open(log, 'w').close()
    ctx = multiprocessing.get_context('fork')
    barrier = ctx.Barrier(STARTERS)
    procs = [ctx.Process(target=_starter, args=(path, log, barrier)) for _ in range(STARTERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0] * STARTERS  # nobody crashed
    events = open(log).read().split('\n')[:-1]
    assert len(events) == 2 * STARTERS
    for enter, leave in zip(events[::2], events[1::2]):  # never two holders at once
        assert enter.split()[0] == 'enter' and leave == 'exit ' + enter.split()[1]
    assert os.path.exists(path)  # the lock file is never removed


def test_holder_killed_releases_and_its_pid_is_named_while_alive(tmp_path):
    path = str(tmp_path / '.train.lock')
    code = ('import sys, time; from mmhandobj.utils import PidLock; '
            f'PidLock({path!r}, "w").acquire(); print("held", flush=True); time.sleep(60)')
    holder = subprocess.Popen([sys.executable, '-c', code], stdout=subprocess.PIPE,
                              env={**os.environ, 'PYTHONPATH': os.getcwd()})
    try:
        assert holder.stdout.readline().strip() == b'held'
        with pytest.raises(PidLockError, match=rf'work dir X is in use by process '
                           rf'{holder.pid} \(lock file {path}\)'):
            PidLock(path, 'work dir X').acquire()
    finally:
        holder.kill()
        holder.wait()
    with PidLock(path, 'work dir X'):
        assert open(path).read().split()[0] == str(os.getpid())


def test_full_disk_at_lock_time_leaves_a_correct_lock_and_no_stuck_state(tmp_path):
    path = str(tmp_path / '.train.lock')
    # a process that can write no byte (RLIMIT_FSIZE 0: writes fail as on a full disk) takes
    # the lock; a second lock object in it is refused
    code = f"""
import resource, signal
from mmhandobj.utils import PidLock, PidLockError
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
lock = PidLock({path!r}, 'w').acquire()
try:
    PidLock({path!r}, 'w').acquire()
except PidLockError as err:
    print('refused:', err)
"""
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         env={**os.environ, 'PYTHONPATH': os.getcwd()}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'refused: w is in use by another process' in out.stdout
    assert os.path.getsize(path) == 0
    with PidLock(path, 'work dir X'):  # the empty file left behind refuses nobody
        assert open(path).read().split()[0] == str(os.getpid())
