"""The fork server the suite runs commands with (tests/forkserver.py) answers as a subprocess does."""

import os
import subprocess
import sys
import textwrap
import time
import zipfile

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


PROBE_SETTINGS = """\
from crawler.settings import *  # noqa: F401,F403
import sys
print("probe:", "forked" if "tests" in sys.modules else "fresh", sys.path[1:], file=sys.stderr)
"""


def test_a_forked_command_has_the_sys_path_its_pythonpath_gives_a_subprocess(tmp_path):
    (tmp_path / "probe_settings.py").write_text(PROBE_SETTINGS)
    # relative and empty entries (the working directory), a repeated one, and one that sys.path
    # holds further on (the standard library's zip, where there is no such file), as Python reads them
    later = [entry for entry in sys.path if entry.endswith(".zip") and not os.path.exists(entry)]
    python_path = os.pathsep.join([str(tmp_path), "relative", "", str(tmp_path), *later])
    environment = {**os.environ, "PYTHONPATH": python_path, "SCRAPY_SETTINGS_MODULE": "probe_settings"}
    args = ["crawl", "nosuchsite", "--replay"]
    forked = fork_server.run(command(*args), environment, tmp_path, timeout=120)
    expected = subprocess.run(command(*args), env=environment, cwd=tmp_path, capture_output=True, text=True,
                              timeout=120)
    # the server's libraries, no fresh interpreter (unless the server began with a PYTHONPATH of its own)
    assert forked.stderr.startswith("probe: fresh " if fork_server.environment.get("PYTHONPATH") else "probe: forked ")
    assert (forked.returncode, forked.stdout, forked.stderr.replace("probe: forked", "probe: fresh", 1)) == \
        (expected.returncode, expected.stdout, expected.stderr)
    assert f"[{str(tmp_path)!r}, {str(tmp_path / 'relative')!r}, " in forked.stderr


@pytest.mark.parametrize("module, source, said, zipped", [
    ("sitecustomize.py", "import sys\nprint('sitecustomize ran', file=sys.stderr)\n", "sitecustomize ran", False),
    ("sitecustomize.py", "import sys\nprint('sitecustomize ran', file=sys.stderr)\n", "sitecustomize ran", True),
    ("scrapy/__init__.py", "raise ImportError('scrapy shadowed')\n", "scrapy shadowed", False),
    # trafilatura and htmldate try it, and do without it, when imported
    ("cchardet.py", "import sys\nprint('cchardet tried', file=sys.stderr)\nraise ImportError\n", "cchardet tried",
     False),
], ids=["sitecustomize", "sitecustomize in a zip", "a preloaded library", "an optional import the server tried"])
def test_a_pythonpath_module_python_imports_before_the_command_gets_a_fresh_interpreter(tmp_path, module, source,
                                                                                        said, zipped):
    if zipped:
        with zipfile.ZipFile(tmp_path / "modules.zip", "w") as archive:
            archive.writestr(module, source)
        python_path = tmp_path / "modules.zip"
    else:
        (tmp_path / module).parent.mkdir(exist_ok=True)
        (tmp_path / module).write_text(source)
        python_path = tmp_path
    environment = {**os.environ, "PYTHONPATH": str(python_path)}
    args = ["crawl", "nosuchsite", "--replay"]
    forked = fork_server.run(command(*args), environment, ROOT, timeout=120)
    expected = subprocess.run(command(*args), env=environment, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert said in expected.stderr
    assert (forked.returncode, forked.stdout, forked.stderr) == (expected.returncode, expected.stdout, expected.stderr)


def test_a_crawler_package_in_the_working_directory_is_the_one_run_as_python_m_runs_it(tmp_path):
    (tmp_path / "crawler").mkdir()
    (tmp_path / "crawler" / "__init__.py").write_text("")
    (tmp_path / "crawler" / "cli.py").write_text(textwrap.dedent("""\
        import sys
        if __name__ == "__main__":  # run as `python -m` runs it
            print("the working directory's crawler")
            sys.exit(7)
        """))
    forked = fork_server.run(command("--version"), dict(os.environ), tmp_path, timeout=120)
    expected = subprocess.run(command("--version"), cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert expected.stdout == "the working directory's crawler\n" and expected.returncode == 7
    assert (forked.returncode, forked.stdout, forked.stderr) == (expected.returncode, expected.stdout, expected.stderr)
