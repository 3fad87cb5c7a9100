"""A fork server for `newscrawl` commands run in a process of their own (cli_runner.newscrawl).

A crawl's process spends about 1.2 s of CPU importing Scrapy, Twisted, SQLAlchemy, trafilatura
and the rest before it does anything, and the suite starts hundreds of them. This server imports
those libraries once, then forks a child for each command: the child takes the command's working
directory, environment, argv and output files, imports newscrawl's own packages afresh (they read
settings from the environment when imported) and runs crawler.cli.main, so that it differs from
`python -m crawler.cli` only in finding the libraries already imported. The idea and the name
are those of multiprocessing's "forkserver" start method.

Protocol, one JSON line a request on stdin: {"args", "env", "cwd", "stdout", "stderr"} (the last
two, files the child writes its output into); the server answers the child's pid, then its exit
code as subprocess gives it (-N when a signal N ended it), one line each.
Usage: python -m tests.forkserver  (cli_runner starts one per test process)
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import warnings

# What newscrawl's commands import that takes time (python -X importtime), none of it newscrawl's.
LIBRARIES = (
    "sqlalchemy.orm", "sqlalchemy.dialects.sqlite", "sqlalchemy.dialects.postgresql", "alembic.command",
    "alembic.runtime.migration", "numpy", "scrapy.crawler", "scrapy.spiders", "scrapy.http",
    "scrapy.linkextractors", "scrapy.downloadermiddlewares.retry", "scrapy.extensions.httpcache",
    "twisted.internet.defer", "twisted.internet.asyncioreactor", "trafilatura", "htmldate", "courlan",
    "dateparser", "feedparser", "warcio", "lxml.html", "w3lib.html", "tld", "tldextract", "numpy.random",
    "scrapy.spidermiddlewares.referer", "twisted.internet.endpoints",
    # RetryMiddleware's settings name an exception of this module, which a crawl then imports with
    # Scrapy's engine on the stack: its deprecated-class shims call inspect.stack(), whose cost is
    # the stack's depth times the modules loaded (CPython #92041), 120 ms a crawl there.
    "scrapy.core.downloader.handlers.http11",
)


def preload() -> None:
    """Import LIBRARIES; SystemExit naming them if that warned (a fresh process would have said
    so on its stderr, which a child of this server would not)."""
    with warnings.catch_warnings(record=True) as caught:
        for name in LIBRARIES:
            importlib.import_module(name)
    if caught:
        sys.exit("forkserver: importing the libraries warned: " + "; ".join(map(str, caught)))
    if "twisted.internet.reactor" in sys.modules:  # each command installs the reactor it wants
        sys.exit("forkserver: importing the libraries installed a Twisted reactor")


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
    import crawler.cli

    sys.argv = [crawler.cli.__file__, *request["args"]]
    sys.path[0] = request["cwd"]  # as `python -m` puts it
    sys.exit(crawler.cli.main(request["args"]))


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
