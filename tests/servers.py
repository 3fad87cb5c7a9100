"""PostgreSQL and Redis servers of the tests' own: started on 127.0.0.1 in a temporary folder, stopped after.

The binaries come from the OS packages (.ci/run installs them). PostgreSQL refuses to run
as root, which CI is: its processes then run as the unprivileged user `nobody`.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

# CI must run every test: a missing server is a failure there, a skip elsewhere.
REQUIRED = bool(os.environ.get("CI"))
UNPRIVILEGED = "nobody"


class ServerUnavailable(Exception):
    """The server's binaries are not installed, or it did not start; the message says which."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)),
                                       None)
    if not found:
        raise ServerUnavailable(f"{name} is not installed")
    return found


def _wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerUnavailable(f"the server exited with code {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise ServerUnavailable(f"nothing listens on port {port} after {seconds} s")


class PostgresServer:
    """A throw-away cluster: trust authentication, user `newscrawl`, one fresh database per url()."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="newscrawl-pg-"))
        self.port = _free_port()
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, UNPRIVILEGED)
            self._as_user = ["runuser", "-u", UNPRIVILEGED, "--"]

    def start(self) -> PostgresServer:
        self._run(_binary("initdb"), "-D", str(self.folder / "data"), "-U", "newscrawl", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8")
        self.start_server()
        return self

    def start_server(self) -> None:
        """Start the cluster's server (again): its databases are as they were."""
        self._run(_binary("pg_ctl"), "-D", str(self.folder / "data"), "-l", str(self.folder / "log"), "-w", "-t", "60",
                  "start", "-o", f"-h 127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off -c max_connections=200")

    def stop_server(self, mode: str = "immediate") -> None:
        """Stop the server, keeping the cluster; "fast" ends the sessions first, as a shutdown does."""
        self._run(_binary("pg_ctl"), "-D", str(self.folder / "data"), "-m", mode, "stop")

    def stop(self) -> None:
        try:
            self.stop_server()
        except ServerUnavailable:  # stopped already
            pass
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://newscrawl@127.0.0.1:{self.port}/{database}"

    def new_database(self, template: str | None = None) -> str:
        """The URL of a new database of its own: empty, or a copy of the database named `template`
        (which nothing may be connected to)."""
        import psycopg

        name = f"store_{uuid.uuid4().hex[:12]}"
        copy_of = f' TEMPLATE "{template}"' if template else ""
        with psycopg.connect(f"postgresql://newscrawl@127.0.0.1:{self.port}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy_of}')
        return self.url(name)

    def _run(self, *command: str) -> None:
        result = subprocess.run([*self._as_user, *command], capture_output=True, text=True, cwd=self.folder)
        if result.returncode:
            log = self.folder / "log"
            detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or [""]
            tail = log.read_text().strip().splitlines()[-1:] if log.exists() else []
            raise ServerUnavailable(f"{Path(command[0]).name} failed: {detail[0]} {' '.join(tail)}")


class RedisServer:
    """redis-server without persistence, on a port of its own."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="newscrawl-redis-"))
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"
