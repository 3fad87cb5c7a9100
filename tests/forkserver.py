"""A fork server for `newscrawl` commands run in a process of their own (cli_runner.newscrawl).

A crawl's process spends about 1.2 s of CPU importing Scrapy, Twisted, SQLAlchemy, trafilatura
and the rest before it does anything, and the suite starts hundreds of them. This server imports
those libraries once, then forks a child for each command: the child takes the command's working
directory, environment, argv and output files, imports newscrawl's own packages afresh (they read
settings from the environment when imported) and runs crawler.cli as `python -m` does (runpy), so
that it differs from `python -m crawler.cli` only in finding the libraries already imported. The idea and the name
are those of multiprocessing's "forkserver" start method.

A command whose PYTHONPATH differs from the server's gets the sys.path that PYTHONPATH would have
begun with, unless an entry is a zip or a folder holding a module Python had imported or tried to
import by then (sitecustomize, a preloaded library, a library's optional import): such a command's
child executes a fresh interpreter instead.

Protocol, one JSON line a request on stdin: {"args", "env", "cwd", "stdout", "stderr"} (the last
two, files the child writes its output into); the server answers the child's pid, then its exit
code as subprocess gives it (-N when a signal N ended it), one line each.
Usage: python -m tests.forkserver  (cli_runner starts one per test process)
"""

from __future__ import annotations

import importlib
import importlib.machinery
import json
import os
import runpy
import sys
import warnings

# What newscrawl's commands import that takes time (python -X importtime), none of it newscrawl's.
LIBRARIES = (
    "sqlalchemy.orm", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "alembic.command",
    "alembic.runtime.migration", "numpy", "scrapy.crawler", "scrapy.spiders", "scrapy.http",
    "scrapy.linkextractors", "scrapy.downloadermiddlewares.retry", "scrapy.extensions.httpcache",
    "twisted.internet.defer", "twisted.internet.asyncioreactor", "trafilatura", "htmldate", "courlan",
    "dateparser", "feedparser", "warcio", "lxml.html", "w3lib.html", "tld",
    "scrapy.spidermiddlewares.referer", "twisted.internet.endpoints",
    # RetryMiddleware's settings name an exception of this module, which a crawl then imports with
    # Scrapy's engine on the stack: its deprecated-class shims call inspect.stack(), whose cost is
    # the stack's depth times the modules loaded (CPython #92041), 120 ms a crawl there.
    "scrapy.core.downloader.handlers.http11",
    # (not tldextract, which reads its cache folder from the environment when imported)
)


class MissedImports:
    """The last finder of sys.meta_path: asked only for what no other finder found, it notes the
    top-level names of the imports that failed (a library's optional one: try: import cchardet)."""

    names: set[str] = set()

    @classmethod
    def find_spec(cls, name: str, path=None, target=None) -> None:
        cls.names.add(name.partition(".")[0])


def preload() -> None:
    """Import LIBRARIES; SystemExit naming them if that warned (a fresh process would have said
    so on its stderr, which a child of this server would not)."""
    sys.meta_path.append(MissedImports)
    with warnings.catch_warnings(record=True) as caught:
        for name in LIBRARIES:
            importlib.import_module(name)
    if caught:
        sys.exit("forkserver: importing the libraries warned: " + "; ".join(map(str, caught)))
    if "twisted.internet.reactor" in sys.modules:  # each command installs the reactor it wants
        sys.exit("forkserver: importing the libraries installed a Twisted reactor")


def python_path_folders(python_path: str) -> list[str]:
    """The folders Python puts on sys.path, after the script's, for PYTHONPATH=python_path: each
    made absolute (an empty one is the working directory), duplicates dropped (CPython's getpath.py
    and site.removeduppaths)."""
    if not python_path:
        return []
    return list(dict.fromkeys(os.path.abspath(folder) for folder in python_path.split(os.pathsep)))


def module_names(folder: str) -> set[str]:
    """The modules and regular packages an import finds in `folder` (namespace packages, found only
    where no module of that name is, left out); none for a folder that cannot be read."""
    suffixes = tuple(importlib.machinery.all_suffixes())
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return set()
    names = set()
    for entry in entries:
        if entry.is_dir():
            if any(os.path.exists(os.path.join(entry.path, "__init__" + suffix)) for suffix in suffixes):
                names.add(entry.name)
        elif entry.name.endswith(suffixes):
            names.add(entry.name.partition(".")[0])
    return names


_SERVER_PYTHON_PATH = python_path_folders(os.environ.get("PYTHONPATH", ""))


def take_python_path(folders: list[str]) -> bool:
    """In the child, once in the command's working directory: sys.path as a PYTHONPATH of these
    folders (python_path_folders) would have begun it. False, sys.path left as it is, where that
    cannot be done: the server had a PYTHONPATH of its own (whose folders may have pushed later
    copies out of sys.path), an entry is a file (a zip, not read here), or a module in those
    folders would have been imported at start-up (sitecustomize, usercustomize), in place of one
    this process has imported, or where this process failed to import one (an optional import,
    made before the fork)."""
    tried = {name.partition(".")[0] for name in sys.modules} | MissedImports.names | {"sitecustomize", "usercustomize"}
    if _SERVER_PYTHON_PATH or any(os.path.isfile(folder) or module_names(folder) & tried for folder in folders):
        return False
    # after the script's folder; a later copy of one of them goes (site.removeduppaths keeps the first)
    sys.path[1:] = folders + [entry for entry in sys.path[1:] if entry not in folders]
    return True


def run_command(request: dict) -> None:
    """In the child: take the request's process state, then run the command. Never returns: the
    command's exit ends the process as `python -m crawler.cli` would end."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, path, flags in ((0, os.devnull, os.O_RDONLY), (1, request["stdout"], os.O_WRONLY),
                            (2, request["stderr"], os.O_WRONLY)):
        opened = os.open(path, flags)
        os.dup2(opened, fd)
        os.close(opened)
    folders = python_path_folders(request["env"].get("PYTHONPATH", ""))
    if folders != _SERVER_PYTHON_PATH and not take_python_path(folders):
        os.execve(sys.executable, [sys.executable, "-m", "crawler.cli", *request["args"]], request["env"])
    sys.path[0] = request["cwd"]  # as `python -m` puts it: a crawler package there would be the one run
    sys.argv[1:] = request["args"]
    runpy.run_module("crawler.cli", run_name="__main__", alter_sys=True)  # what `python -m` runs
    sys.exit(0)  # (a module run to its end: the interpreter's exit status)


def serve() -> None:
    """Answer requests until stdin closes."""
    preload()
    requests, answers = os.fdopen(os.dup(0), "rb"), os.dup(1)
    os.write(answers, b"ready\n")
    for line in requests:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            requests.close()
            os.close(answers)
            run_command(request)
        os.write(answers, f"{pid}\n".encode())
        _, status = os.waitpid(pid, 0)
        os.write(answers, f"{os.waitstatus_to_exitcode(status)}\n".encode())


if __name__ == "__main__":
    serve()
