"""The command line: every command's normal use and its answers to bad input."""

import csv
import importlib
import io
import json
import shutil
import subprocess
import sys
import textwrap

import pytest

from crawler.cli import COMMANDS
from crawler.commands.export import FIELDS as EXPORT_FIELDS
from crawler.commands.sites import declared_sites, loaded_sites
from tests.cli_runner import ROOT, newscrawl
from tests.fixture_sites import quality

REQUIRED_EXPORT_KEYS = {"url", "site", "title", "published", "author", "source", "language",
                        "text", "content_hash", "first_seen"}


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'articles.db'}"
    result = newscrawl("crawl", "jfmi", "rocar", "--replay", "--db", url)
    assert result.returncode == 0, result.stderr
    return url


# What crawls need and reading the store does not: each costs tenths of a second to import.
CRAWLING_MODULES = ("scrapy", "twisted", "trafilatura", "lxml", "alembic", "numpy")
# What writing the store needs and reading it does not: the ORM, its mapped classes and the write
# path (a tenth of a second), the PostgreSQL search and dialect (a SQLite store needs neither).
WRITING_MODULES = ("sqlalchemy.orm", "storage.models", "storage.store", "storage.near_duplicates",
                   "storage.search_postgresql", "sqlalchemy.dialects.postgresql")


@pytest.mark.parametrize("command", [["stats"], ["stats", "--runs"], ["search", "committee"], ["show", "1"],
                                     ["show", "https://www.rocar.net/en/menu139/newsDetail/441.html?utm_source=x"],
                                     ["export"], ["--help"], ["--version"]])
def test_reading_commands_import_neither_what_crawls_nor_what_writes_need(db, command):
    loaded = modules_loaded_by(*command, "--db", db) if command[0].isalpha() else modules_loaded_by(*command)
    packages = {name.split(".")[0] for name in loaded}
    assert packages.isdisjoint(CRAWLING_MODULES), packages & set(CRAWLING_MODULES)
    assert loaded.isdisjoint(WRITING_MODULES), loaded & set(WRITING_MODULES)


def test_sites_are_listed_without_importing_scrapy_or_the_store():
    packages = {name.split(".")[0] for name in modules_loaded_by("sites")}
    assert packages.isdisjoint((*CRAWLING_MODULES, "sqlalchemy", "storage")), packages


def modules_loaded_by(*arguments: str) -> set[str]:
    """In a fresh process, as a user runs it: the command's answer (checked), then the modules it loaded."""
    script = textwrap.dedent("""\
        import sys
        from crawler.cli import main
        try:
            code = main(sys.argv[1:])
        except SystemExit as exit_:  # --help, --version
            code = exit_.code
        print(*sys.modules, file=sys.stderr)
        sys.exit(code)""")
    result = subprocess.run([sys.executable, "-c", script, *arguments], cwd=ROOT, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout, result.stderr
    return set(result.stderr.split())


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("newscrawl: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("command", [[]] + [[name] for name in COMMANDS] + [["db", "upgrade"]])
def test_every_command_has_help(command):
    result = newscrawl(*command, "--help")
    assert result.returncode == 0 and "usage: newscrawl" in result.stdout


@pytest.mark.parametrize("arguments", [["--help"], ["-h", "stats"]])
def test_the_list_of_commands_gives_each_its_help_line(arguments):
    listed = "".join(newscrawl(*arguments).stdout.split())  # however argparse wraps it
    for name in COMMANDS:
        help_line = importlib.import_module(f"crawler.commands.{name.replace('-', '_')}").HELP
        assert name + "".join(help_line.split()) in listed


def test_sites_lists_every_spider_with_its_start_url():
    lines = newscrawl("sites").stdout.splitlines()
    assert {line.split()[0] for line in lines} == {"4ll", "bluestar", "henan", "jfmi", "rocar"}
    assert "rocar      https://www.rocar.net/en/menu139/" in lines


def test_the_sites_read_from_the_spider_modules_source_are_those_scrapy_loads(monkeypatch):
    monkeypatch.chdir(ROOT)  # its sites.toml has no entries
    declared = declared_sites()
    assert declared == loaded_sites(None) and declared


def test_a_spider_whose_start_urls_are_not_literals_is_left_to_the_spider_loader(tmp_path, monkeypatch):
    (tmp_path / "own_settings.py").write_text('SPIDER_MODULES = ["own_spiders"]\n', encoding="utf-8")
    (tmp_path / "own_spiders").mkdir()
    (tmp_path / "own_spiders" / "__init__.py").write_text("", encoding="utf-8")
    site = tmp_path / "own_spiders" / "site.py"
    monkeypatch.syspath_prepend(tmp_path)
    monkeypatch.setenv("SCRAPY_SETTINGS_MODULE", "own_settings")
    monkeypatch.chdir(tmp_path)
    site.write_text('class Site:\n    name = "site"\n    start_urls = ["https://example.org/news/"]\n', encoding="utf-8")
    assert declared_sites() == {"site": ["https://example.org/news/"]}
    site.write_text('HOST = "https://example.org"\n\n\nclass Site:\n    name = "site"\n'
                    '    start_urls = [HOST + "/news/"]\n', encoding="utf-8")
    assert declared_sites() is None


def test_export_jsonl_has_one_article_per_line_with_the_documented_keys(db):
    result = newscrawl("export", "--format", "jsonl", "--db", db)
    articles = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(articles) == len(quality("jfmi")["articles"]) + len(quality("rocar")["articles"])
    assert all(REQUIRED_EXPORT_KEYS <= set(article) for article in articles)
    seed = next(a for a in articles if a["url"].endswith("t20161010_104333.html"))
    assert seed["published"] == "2016-07-27" and seed["site"] == "jfmi"
    assert seed["text"].split("\n")[0].startswith("On April 29, the Party Committee of JFMI")


def test_export_csv_to_a_file(db, tmp_path):
    out = tmp_path / "articles.csv"
    assert newscrawl("export", "--format", "csv", "-o", str(out), "--db", db).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == EXPORT_FIELDS
    assert {row["site"] for row in rows} == {"jfmi", "rocar"}


def test_stats_shows_each_crawled_site_and_its_last_success(db):
    lines = newscrawl("stats", "--db", db).stdout.splitlines()
    rows = {line.split()[0]: line.split() for line in lines[1:-2]}  # then the total and a note
    assert set(rows) == {"jfmi", "rocar"}
    assert rows["rocar"][1] == str(len(quality("rocar")["articles"]))
    assert "never" not in rows["rocar"]


def test_unknown_site(tmp_path):
    assert_one_line_error(newscrawl("crawl", "nosuchsite", "--db", f"sqlite:///{tmp_path}/a.db"),
                          "unknown site 'nosuchsite'", "rocar")


def test_missing_fixture_folder(tmp_path):
    assert_one_line_error(newscrawl("crawl", "--replay", str(tmp_path / "none"), "--db", f"sqlite:///{tmp_path}/a.db"),
                          "no recordings folder")


def test_malformed_manifest(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "manifest.json").write_text("{not json")
    assert_one_line_error(newscrawl("crawl", "--replay", str(tmp_path / "site"), "--db", f"sqlite:///{tmp_path}/a.db"),
                          "unreadable recording manifest")


@pytest.mark.parametrize("command", [["stats"], ["export"], ["crawl", "rocar", "--replay"]])
def test_unreadable_database_path(command, tmp_path):
    assert_one_line_error(newscrawl(*command, "--db", f"sqlite:///{tmp_path}/missing/dir/a.db"), "does not exist")


def test_a_directory_as_database(tmp_path):
    assert_one_line_error(newscrawl("stats", "--db", f"sqlite:///{tmp_path}"), "cannot open database")


def test_reading_an_empty_location_does_not_create_a_store(tmp_path):
    assert_one_line_error(newscrawl("stats", "--db", f"sqlite:///{tmp_path}/new.db"), "run a crawl first")
    assert not (tmp_path / "new.db").exists()


def test_bad_setting_override(tmp_path):
    assert_one_line_error(newscrawl("crawl", "-s", "NOEQUALS", "--db", f"sqlite:///{tmp_path}/a.db"), "NAME=VALUE")


@pytest.mark.parametrize(("setting", "message"), [
    ("DOWNLOAD_DELAY=abc", "-s DOWNLOAD_DELAY takes a number (default: 1.0), not 'abc'"),  # Scrapy's own, read as the crawl starts
    ("NEWSCRAWL_WRITE_BATCH_SIZE=many", "-s NEWSCRAWL_WRITE_BATCH_SIZE takes a number (default: 200), not 'many'"),
    ("NEWSCRAWL_ERRORS_NAMED=ten", "-s NEWSCRAWL_ERRORS_NAMED takes a number"),  # read only when a page fails
    ("ROBOTSTXT_OBEY=maybe", "-s ROBOTSTXT_OBEY takes True or False (default: True), not 'maybe'"),
    ("NEWSCRAWL_WRITE_BATCH_SECONDS=0", "NEWSCRAWL_WRITE_BATCH_SECONDS is a number of seconds above 0"),
    # Scrapy's pause and resume: the resumed crawl skipped its start page as seen, fetched nothing and failed
    ("JOBDIR=crawls/henan", "-s JOBDIR is not supported: a crawl after an interrupted one walks every list page"),
])
def test_a_setting_of_the_wrong_kind_is_one_line_before_any_crawl(tmp_path, setting, message):
    result = newscrawl("crawl", "jfmi", "--replay", "-s", setting, "--db", f"sqlite:///{tmp_path}/a.db")
    assert_one_line_error(result, message)
    assert not (tmp_path / "a.db").exists()


@pytest.mark.parametrize("command", [["export", "-o", "{file}"], ["stats", "--log-file", "{file}"],
                                     ["crawl", "jfmi", "--replay", "--warc", "{file}"]], ids=lambda c: c[-2])
@pytest.mark.parametrize("file", ["store", "store-wal"])
def test_a_file_to_write_that_is_the_store_is_refused_untouched(db, tmp_path, command, file):
    """export -o, --log-file or --warc naming the store (or its write-ahead log) would overwrite or
    append to it."""
    store = tmp_path / "articles.db"
    shutil.copyfile(db.removeprefix("sqlite:///"), store)
    wal = tmp_path / "articles.db-wal"
    wal.write_bytes(b"")  # as a store in use has
    target = store if file == "store" else wal
    before = store.read_bytes()
    result = newscrawl(*[part.replace("{file}", str(tmp_path / ".." / tmp_path.name / target.name))
                         for part in command], "--db", f"sqlite:///{store}")
    assert_one_line_error(result, "is the store", str(store))
    assert store.read_bytes() == before


def test_a_site_named_twice_is_crawled_once(tmp_path):
    """Not two crawls of one site side by side, each asking for every page."""
    result = newscrawl("crawl", "jfmi", "jfmi", "--replay", "--json", "--db", f"sqlite:///{tmp_path}/a.db")
    assert result.returncode == 0, result.stderr
    assert [(crawl["site"], crawl["new"]) for crawl in json.loads(result.stdout)] == [
        ("jfmi", len(quality("jfmi")["articles"]))]


POSTGRES_WITH_PASSWORD = "postgresql+psycopg://news:s3cret@127.0.0.1:1/news"


@pytest.mark.parametrize("command", [
    ["stats", "--db", POSTGRES_WITH_PASSWORD], ["db", "upgrade", "--db", POSTGRES_WITH_PASSWORD],
    ["crawl", "jfmi", "--replay", "--db", POSTGRES_WITH_PASSWORD],
    ["crawl", "jfmi", "--replay", "--frontier", "redis://:s3cret@127.0.0.1:1/0", "--db", "sqlite:///{tmp}/a.db"]],
    ids=lambda command: " ".join(command[:3]))
def test_a_password_in_a_url_is_not_shown(tmp_path, command):
    """Error lines go to logs and cron's mails: a database's or Redis's password stays out of them."""
    result = newscrawl(*[part.replace("{tmp}", str(tmp_path)) for part in command])
    assert_one_line_error(result, "***")
    assert "s3cret" not in result.stderr + result.stdout


def test_unwritable_export_file(db, tmp_path):
    assert_one_line_error(newscrawl("export", "-o", str(tmp_path / "no" / "out.jsonl"), "--db", db), "cannot write")


@pytest.mark.parametrize(("arguments", "fragment"), [
    (["export", "--format", "xml"], "invalid choice: 'xml'"), (["search"], "required: QUERY"),
    (["stats", "--runs", "x"], "invalid int value: 'x'"), (["bogus"], "invalid choice: 'bogus'"),
    (["db", "frob"], "invalid choice: 'frob'"), (["crawl", "--max-pages", "abc"], "--max-pages"),
    (["show", "1", "--no-such-option"], "unrecognized arguments: --no-such-option (see `newscrawl show --help`)")])
def test_bad_arguments_are_one_line_naming_the_help(arguments, fragment):
    """argparse's usage errors, as every other bad input: one line, not the whole usage first."""
    assert_one_line_error(newscrawl(*arguments), fragment, "--help`")


def test_sites_and_crawl_summary_as_json(tmp_path):
    sites = json.loads(newscrawl("sites", "--json").stdout)
    assert {"site": "rocar", "start_urls": ["https://www.rocar.net/en/menu139/"]} in sites
    result = newscrawl("crawl", "jfmi", "--replay", "--json", "--db", f"sqlite:///{tmp_path}/a.db")
    [summary] = json.loads(result.stdout)
    assert (summary["site"], summary["outcome"]) == ("jfmi", "finished")
    assert summary["new"] == summary["stored"] == len(quality("jfmi")["articles"])
    # the keys are the summary table's headers
    table = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{tmp_path}/b.db").stdout.splitlines()
    headers = table[0].replace("no body", "no_body").replace("not modified", "not_modified").split()
    assert list(summary)[:len(headers)] == headers
    assert (summary["error"], summary["warnings"], summary["errors_by_kind"]) == (None, [], {})
