"""Running the real `newscrawl` command: in a process of its own, forked by this test process's
fork server (tests/forkserver.py), or in this process for the commands that only read the store
(a Scrapy reactor runs once per process: crawls need a process each)."""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# These neither crawl nor serve: the same main() runs them in this process, far quicker. With an
# environment of its own a command still gets a process: settings and urllib's proxies are read once.
IN_PROCESS = {"stats", "search", "show", "export", "sites", "db", "re-extract", "extract", "check", "discover"}


def newscrawl(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT,
              timeout: float = 300) -> subprocess.CompletedProcess:
    """The command's result; subprocess.TimeoutExpired when it runs longer than `timeout` seconds."""
    if args and args[0] in IN_PROCESS and env is None:
        return run_in_process(*args, cwd=cwd)
    environment = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}
    environment.update(env or {})
    command = [sys.executable, "-m", "crawler.cli", *args]
    # (a thread running a command while another does gets a subprocess)
    if fork_server.can_run(environment) and _fork_server_lock.acquire(blocking=False):
        try:
            return fork_server.run(command, environment, cwd, timeout)
        finally:
            _fork_server_lock.release()
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)


def _interpreter_settings(environment: dict[str, str]) -> dict[str, str]:
    """What Python reads from the environment once, at start-up, that the fork server cannot give a
    child: PYTHON* (but PYTHONPATH, which it can) and the locale."""
    return {name: value for name, value in environment.items()
            if (name.startswith(("PYTHON", "LC_")) and name != "PYTHONPATH") or name == "LANG"}


class _ForkServer:
    """The client of tests/forkserver.py: started at its first command, stopped when this
    process exits."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.environment = dict(os.environ)  # (this process's at start, whatever tests change since)

    def can_run(self, environment: dict[str, str]) -> bool:
        """Whether a command in `environment` would start as the server does."""
        return _interpreter_settings(environment) == _interpreter_settings(self.environment)

    def run(self, command: list[str], environment: dict[str, str], cwd: Path,
            timeout: float) -> subprocess.CompletedProcess:
        """As subprocess.run(command, capture_output=True, text=True, timeout=timeout) would."""
        if self.process is None or self.process.poll() is not None:
            self.process = subprocess.Popen([sys.executable, "-m", "tests.forkserver"], cwd=ROOT, bufsize=0,
                                            env=self.environment,
                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            atexit.register(self.process.stdin.close)
            if self.process.stdout.readline() != b"ready\n":
                raise RuntimeError(f"the fork server did not start (exit {self.process.wait()})")
        with tempfile.TemporaryDirectory(prefix="newscrawl-command-") as folder:
            output = {name: Path(folder, name) for name in ("stdout", "stderr")}
            for path in output.values():
                path.touch()
            request = {"args": command[3:], "env": environment, "cwd": str(Path(cwd).resolve()),
                       **{name: str(path) for name, path in output.items()}}
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
            pid = int(self.process.stdout.readline())
            if not select.select([self.process.stdout], [], [], timeout)[0]:
                os.kill(pid, signal.SIGKILL)
                self.process.stdout.readline()
                raise subprocess.TimeoutExpired(command, timeout, *(_text(path) for path in output.values()))
            returncode = int(self.process.stdout.readline())
            return subprocess.CompletedProcess(command, returncode, *(_text(path) for path in output.values()))


def _text(path: Path) -> str:
    """A captured output as subprocess's text mode gives it (locale encoding, universal newlines)."""
    text = path.read_bytes().decode(locale.getpreferredencoding(False))
    return text.replace("\r\n", "\n").replace("\r", "\n")


fork_server = _ForkServer()
_fork_server_lock = threading.Lock()


def run_in_process(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """crawler.cli.main(args) with the environment and working directory of a subprocess,
    its output captured; what a subprocess would print as a traceback is raised here."""
    from crawler.cli import main

    stdout, stderr = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO()
    saved_db, saved_cwd = os.environ.pop("NEWSCRAWL_DB", None), os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                returncode = main(list(args))
            except SystemExit as exit_:  # argparse: usage errors and --help
                returncode = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
            stdout.flush()
    finally:
        os.chdir(saved_cwd)
        if saved_db is not None:
            os.environ["NEWSCRAWL_DB"] = saved_db
    return subprocess.CompletedProcess(["newscrawl", *args], returncode,
                                       stdout.buffer.getvalue().decode("utf-8"), stderr.getvalue())
