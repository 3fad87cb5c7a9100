"""Running the real `newscrawl` command: in a subprocess, or in this process for the commands
that only read the store (a Scrapy reactor runs once per process: crawls need a process each)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
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
    return subprocess.run([sys.executable, "-m", "crawler.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


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
