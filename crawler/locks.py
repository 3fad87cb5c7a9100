"""Locks that hold across processes: one crawl per site at a time, whoever starts it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class LockFile:
    """An exclusive flock on a file.

    The kernel releases a flock when the last descriptor of it is closed, which
    happens when its holders exit, however they exit: a crashed or killed holder
    never leaves a stale lock behind (unlike a pid file). A process started with
    the descriptor (``pass_fds``) holds the lock too, for as long as it runs.
    """

    def __init__(self, path: Path):
        self.path = path
        self.fd: int | None = None

    def acquire(self, *, wait: bool = False) -> bool:
        """Take the lock; False when another process holds it (unless told to wait)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> LockFile:
        self.acquire(wait=True)
        return self

    def __exit__(self, *_exc) -> None:
        self.release()
