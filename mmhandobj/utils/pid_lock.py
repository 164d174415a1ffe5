"""A lock file holding the owner's process id, for folders one process must own at a time.

Used for a training work dir (two trainings in one work dir would interleave one log and
overwrite each other's checkpoints) and for a synthetic world being generated. A lock whose
process no longer runs on this machine (killed) is taken over with a log line.
"""
import os
import socket
from typing import Optional

from mmengine.logging import print_log

from .checkpoint import pid_alive


class PidLockError(RuntimeError):
    """The folder is locked by a running process (the message names it and the lock file)."""


class PidLock:
    """``O_EXCL`` lock file with ``<pid> <host>`` inside; usable as a context manager.

    Args:
        path: Lock file path.
        what: What the lock protects, for messages (e.g. ``'work dir work_dirs/x'``).
    """

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        self.what = what
        self._held = False

    def _owner(self) -> Optional[int]:
        """The pid of the lock's owner on this host, None when unreadable or another host."""
        try:
            with open(self.path) as f:
                fields = f.read().split()
        except OSError:
            return None
        if len(fields) != 2 or not fields[0].isdigit():
            return None
        return int(fields[0]) if fields[1] == socket.gethostname() else -1

    def acquire(self) -> 'PidLock':
        """Take the lock.

        Raises:
            PidLockError: When a running process (or one on another host) holds it.
        """
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                owner = self._owner()
                if owner is None or owner == -1 or pid_alive(owner):
                    holder = (f'process {owner}' if owner and owner > 0 else
                              'a process on another machine' if owner == -1 else
                              'another process')
                    raise PidLockError(
                        f'{self.what} is in use by {holder} (lock file {self.path}). Wait '
                        'for it to finish or choose another folder; remove the lock file only '
                        'if no such process runs.') from None
                print_log(f'taking over {self.path}: its process {owner} no longer runs',
                          logger='current', level=30)
                os.remove(self.path)
                continue
            with os.fdopen(fd, 'w') as f:
                f.write(f'{os.getpid()} {socket.gethostname()}\n')
            self._held = True
            return self
        raise PidLockError(f'could not take the lock {self.path} of {self.what}')

    def release(self) -> None:
        """Remove the lock file if this object holds it."""
        if self._held:
            self._held = False
            try:
                os.remove(self.path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> 'PidLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
