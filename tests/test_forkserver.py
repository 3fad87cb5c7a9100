"""The fork server the suite runs commands with (tests/forkserver.py) answers as a subprocess does."""

import os
import subprocess
import sys
import textwrap
import time

import pytest

from storage import Store

from tests.cli_runner import ROOT, fork_server


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "crawler.cli", *args]


def test_a_forked_command_has_the_working_directory_environment_output_and_exit_code_of_a_subprocess(tmp_path):
    (tmp_path / "sites.toml").write_text(textwrap.dedent("""\
        [sites.district]
        start_urls = ["https://district.example/news/"]
        article_pattern = '/news/\\d+\\.html$'
        """), encoding="utf-8")
    environment = {**os.environ, "NEWSCRAWL_DB": f"sqlite:///{tmp_path / 'env.db'}"}
    for args in (["sites"], ["stats"], ["crawl", "nosuchsite", "--replay"], ["stats", "--db", "ftp://nowhere"]):
        forked = fork_server.run(command(*args), environment, tmp_path, timeout=120)
        expected = subprocess.run(command(*args), env=environment, cwd=tmp_path, capture_output=True, text=True,
                                  timeout=120)
        assert (forked.returncode, forked.stdout, forked.stderr) == \
            (expected.returncode, expected.stdout, expected.stderr), args
        assert forked.returncode == (0 if args == ["sites"] else 2), forked.stderr
        if args == ["sites"]:
            assert "district" in forked.stdout  # the working directory's sites.toml
        if args == ["stats"]:
            assert str(tmp_path / "env.db") in forked.stderr  # the environment's store


def test_a_forked_command_running_past_its_timeout_is_killed(tmp_path):
    store = f"sqlite:///{tmp_path / 'a.db'}"
    Store(store).close()
    started = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):  # browse serves until stopped
        fork_server.run(command("browse", "--db", store, "--port", "0"), dict(os.environ), ROOT, timeout=3)
    assert time.monotonic() - started < 30
    # the server answers the next command
    assert fork_server.run(command("sites"), dict(os.environ), ROOT, timeout=120).returncode == 0
