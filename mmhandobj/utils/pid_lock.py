"""A kernel-held lock on a file, for folders one process must own at a time.

Used for a training work dir (two trainings in one work dir would interleave one log and
overwrite each other's checkpoints) and for a synthetic world being generated.

The lock is ``fcntl.flock`` on a lock file that is never removed: the kernel releases it when
its holder's file descriptor closes, which includes the holder being killed, so there is no
stale lock to detect or take over, and no window in which two starters both see "no lock"
(remove-and-recreate schemes have one). The holder writes ``<pid> <host>`` into the file for
the refusal message only; when that write fails (e.g. a full disk) the lock is still held and
correct, and the message just cannot name the process. ``flock`` works on local file systems
and on NFS (Linux emulates it with byte-range locks there).

Forked children share the holder's descriptor, so the lock is released when the holder *and*
its forked children have exited.
"""
import errno
import fcntl
import os
import socket
from typing import Optional

from mmengine.logging import print_log

#: Bytes of the lock file read for the refusal message (``<pid> <host>\n`` fits easily).
_OWNER_READ_BYTES = 512


class PidLockError(RuntimeError):
    """The folder is locked by a running process (the message names it and the lock file)."""


class PidLock:
    """``flock`` lock file with ``<pid> <host>`` inside; usable as a context manager.

    Args:
        path: Lock file path (created when missing, never removed).
        what: What the lock protects, for messages (e.g. ``'work dir work_dirs/x'``).
    """

    def __init__(self, path: str, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: Optional[int] = None

    def _holder(self, fd: int) -> str:
        """Who holds the lock, as written into the lock file by the holder, for messages."""
        try:
            fields = os.pread(fd, _OWNER_READ_BYTES, 0).decode('utf-8', 'replace').split()
        except OSError:
            fields = []
        if len(fields) != 2 or not fields[0].isdigit():
            return 'another process'
        if fields[1] == socket.gethostname():
            return f'process {fields[0]}'
        return f'process {fields[0]} on host {fields[1]}'

    def acquire(self, wait: bool = False) -> 'PidLock':
        """Take the lock.

        Args:
            wait: Block until the holder releases it instead of raising.

        Raises:
            PidLockError: When another process (or another :class:`PidLock` object of this
                process) holds it and ``wait`` is False.
            OSError: When the lock file cannot be created (the message names it).
        """
        if self._fd is not None:
            return self
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder(fd)
            os.close(fd)
            raise PidLockError(
                f'{self.what} is in use by {holder} (lock file {self.path}). Wait for it to '
                'finish or choose another folder.') from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self._write_owner()
        return self

    def _write_owner(self) -> None:
        """Write ``<pid> <host>`` for other starters' messages; failure only costs the name."""
        info = f'{os.getpid()} {socket.gethostname()}\n'.encode()
        try:
            os.ftruncate(self._fd, 0)
            if os.pwrite(self._fd, info, 0) != len(info):
                raise OSError(errno.ENOSPC, 'short write')
        except OSError as err:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
            print_log(f'could not write the owner into the lock file {self.path} ({err}); '
                      'the lock is held, other starters will not see who holds it',
                      logger='current', level=30)

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def release(self) -> None:
        """Release the lock if this object holds it (the file stays, emptied)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.ftruncate(fd, 0)
        except OSError:
            pass
        os.close(fd)

    def __enter__(self) -> 'PidLock':
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
