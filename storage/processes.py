"""Which process runs a crawl, and whether it still exists: how a run left "running" by a
process that was killed is told apart from one still going."""

from __future__ import annotations

import os
import socket
from pathlib import Path


def this_process() -> tuple[str, int]:
    """(host name, process id) of the running process."""
    return socket.gethostname(), os.getpid()


def is_gone(host: str | None, pid: int | None) -> bool:
    """Whether the process pid on host surely no longer runs. Only a process of this machine
    can be checked: for another machine (or an unknown process) the answer is False."""
    if host != socket.gethostname() or not pid:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's
        return False
    return _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    """A killed process its parent has not reaped yet still has a pid, but runs no more (Linux)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] == "Z"
