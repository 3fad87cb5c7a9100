"""Locks that hold across processes: one crawl per site at a time, whoever starts it.

The lock of a site lives where its store does: for a PostgreSQL store, an advisory lock in the
database, which holds across the machines crawling into it; for a SQLite store (one machine),
an flock on a file in the lock folder.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from storage import database_file
from storage.locks import HeldLock


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

    @property
    def where(self) -> str:
        return str(self.path.parent)

    @property
    def pass_fds(self) -> tuple[int, ...]:
        """Descriptors a crawl process is started with, to hold the lock as long as it runs."""
        return (self.fd,)

    def __enter__(self) -> LockFile:
        self.acquire(wait=True)
        return self

    def __exit__(self, *_exc) -> None:
        self.release()


class DatabaseLock(HeldLock):
    """A site's lock in a PostgreSQL store: held by the scheduler's connection while the crawl runs."""

    pass_fds = ()
    where = "the store's database"


def site_lock(db_url: str, lock_dir: Path, site: str) -> LockFile | DatabaseLock:
    """The lock of crawling site into the store at db_url (acquire, release, pass_fds)."""
    if db_url.startswith("postgresql") and database_file(db_url) is None:
        return DatabaseLock(db_url, f"crawl:{site}")
    return LockFile(lock_dir / f"{site}.lock")
