"""Locks in the database, held across processes and machines: whoever writes the store takes them there.

On PostgreSQL they are advisory locks, keyed by a 64-bit number made from a name; a lock
held by a session that dies is released with it. SQLite has no such locks: a SQLite store
is used from one machine, and an flock on a file beside the store does the same job
(the kernel releases it when its holder exits, however it exits).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import make_url


def lock_key(name: str) -> int:
    """The signed 64-bit advisory-lock key of a name (the same in every process)."""
    return int.from_bytes(hashlib.blake2b(f"newscrawl:{name}".encode(), digest_size=8).digest(), "big",
                          signed=True)


def sqlite_lock_path(engine: Engine, name: str) -> Path | None:
    """The file beside a SQLite store whose flock stands for the lock `name`; None for an in-memory store."""
    database = make_url(str(engine.url)).database
    if database in (None, "", ":memory:"):
        return None
    return Path(f"{database}.{name}.lock")


@contextmanager
def database_lock(engine: Engine, name: str) -> Iterator[None]:
    """Hold the store-wide lock `name` for the block, waiting for it as long as it takes."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_advisory_lock(%s)", (lock_key(name),))
            try:
                yield
            finally:
                connection.exec_driver_sql("SELECT pg_advisory_unlock(%s)", (lock_key(name),))
                connection.commit()
        return
    path = sqlite_lock_path(engine, name)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644) if path else None
    except OSError:  # a read-only folder: nothing can be created or migrated there, and the store says so
        fd = None
    if fd is None:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def sqlite_writer_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite store file, one writer at a time from its first read to its commit (SQLite
    lets one writer in only from its first write, after what it read may have changed);
    elsewhere nothing: PostgreSQL writers take finer locks (lock_in_transaction)."""
    if engine.dialect.name == "sqlite":
        with database_lock(engine, "writer"):
            yield
    else:
        yield


def lock_in_transaction(connection: Connection, names: Iterable[str]) -> None:
    """On PostgreSQL, take the locks `names` until the connection's transaction ends, in one
    order (so that two writers never wait for each other in a circle); elsewhere nothing
    (sqlite_writer_lock), and `names` is not even read."""
    if connection.dialect.name != "postgresql":
        return
    for key in sorted({lock_key(name) for name in names}):
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (key,))


class HeldLock:
    """A PostgreSQL session-level advisory lock, taken without waiting and held by a connection
    of its own until released (or until the holder's connection ends: a dead holder frees it)."""

    def __init__(self, url: str, name: str):
        self.url, self.name = url, name
        self._engine: Engine | None = None
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Take the lock; False when another session, on any machine, holds it."""
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self._engine = create_engine(self.url, poolclass=NullPool)
        self._connection = self._engine.connect()
        taken = self._connection.exec_driver_sql("SELECT pg_try_advisory_lock(%s)", (lock_key(self.name),)).scalar()
        self._connection.commit()
        if not taken:
            self.release()
        return bool(taken)

    def release(self) -> None:
        self._connection.close()  # ending the session releases its advisory locks
        self._engine.dispose()
        self._connection = self._engine = None
