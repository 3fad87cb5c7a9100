"""What every command shares: --version, -v/-q/--log-file; --until beside every --since;
--language on export and search; crawl --max-articles."""

import json
from importlib.metadata import version

import pytest

from crawler.cli import COMMANDS
from storage import Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality
from tests.test_cli import assert_one_line_error
from tests.test_incremental import COLUMN, LATER, LIST_PAGES, NEW, ROBOTS, Crawls, urls


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """rocar (English) and henan (Chinese) replayed."""
    url = f"sqlite:///{tmp_path_factory.mktemp('conventions') / 'articles.db'}"
    result = newscrawl("crawl", "rocar", "henan", "--replay", "--db", url)
    assert result.returncode == 0, result.stderr
    return url


def test_version():
    result = newscrawl("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"newscrawl {version('newscrawl')}"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_takes_the_logging_options(command):
    result = newscrawl(*command.split(), "--help")
    assert result.returncode == 0, result.stderr
    assert all(option in result.stdout for option in ("-v, --verbose", "-q, --quiet", "--log-file PATH"))


def test_verbose_and_quiet_leave_a_commands_output_as_it_is(db):
    plain = newscrawl("stats", "--db", db)
    assert plain.returncode == 0 and plain.stdout
    for option in ("-v", "-vv", "-q"):
        result = newscrawl("stats", option, "--db", db)
        assert (result.returncode, result.stdout) == (0, plain.stdout), option
        # log lines only, on stderr (-v: e.g. what Alembic says when it reads the schema version)
        assert all(" INFO: " in line or " DEBUG: " in line for line in result.stderr.splitlines()), option
        assert option != "-q" or result.stderr == ""


def test_a_crawl_logs_into_the_log_file_at_the_level_asked(tmp_path):
    db, log = f"sqlite:///{tmp_path / 'a.db'}", tmp_path / "crawl.log"
    quiet = newscrawl("crawl", "rocar", "--replay", "--db", db, "-q", "--log-file", str(log))
    assert quiet.returncode == 0, quiet.stderr
    assert "rocar  finished" in quiet.stdout and quiet.stderr == ""
    assert " INFO: " not in log.read_text(encoding="utf-8")
    verbose = newscrawl("crawl", "rocar", "--replay", "--db", db, "-v", "--log-file", str(log))
    assert verbose.returncode == 0 and verbose.stderr == ""
    logged = log.read_text(encoding="utf-8")
    assert "[scrapy.core.engine] INFO: Spider opened" in logged and " DEBUG: " not in logged


def test_the_schedulers_lines_go_to_the_log_file(tmp_path):
    schedule, log = tmp_path / "schedule.toml", tmp_path / "schedule.log"
    schedule.write_text(f'lock_dir = "{tmp_path}"\n[jobs.english]\nsites = ["rocar"]\ncron = "* * * * *"\n'
                        f'replay = "{LATER.parent}"\n', encoding="utf-8")
    result = newscrawl("schedule", "--once", "--file", str(schedule), "--db", f"sqlite:///{tmp_path / 'a.db'}",
                       "--log-file", str(log))
    assert result.returncode == 0, result.stderr
    assert "job english: crawling rocar" in log.read_text(encoding="utf-8")
    assert "job english" not in result.stderr


def test_a_log_file_that_cannot_be_written_is_one_line_and_exit_2(db, tmp_path):
    assert_one_line_error(newscrawl("stats", "--db", db, "--log-file", str(tmp_path / "no" / "such.log")),
                          "cannot write the log file")


def test_verbose_and_quiet_exclude_each_other(db):
    result = newscrawl("stats", "-v", "-q", "--db", db)
    assert result.returncode == 2 and "not allowed with" in result.stderr


def export(db, *options) -> list[dict]:
    result = newscrawl("export", "--db", db, *options)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_export_until_and_since_keep_the_days_between(db):
    everything = [a for a in export(db) if a["published"]]
    days = sorted(a["published"] for a in everything)
    since, until = days[len(days) // 4], days[3 * len(days) // 4]
    between = export(db, "--since", since, "--until", until)
    assert 0 < len(between) < len(everything)
    assert {a["url"] for a in between} == {a["url"] for a in everything if since <= a["published"] <= until}
    assert {a["url"] for a in export(db, "--until", until)} == {a["url"] for a in everything
                                                                 if a["published"] <= until}


def test_export_language(db):
    chinese = export(db, "--language", "zh")
    assert chinese and {a["language"] for a in chinese} == {"zh"} and {a["site"] for a in chinese} == {"henan"}
    assert len(export(db, "--language", "zh", "--language", "en")) == len(export(db))


def search(db, query, *options) -> list[dict]:
    result = newscrawl("search", query, "--db", db, "--json", "--limit", "100", *options)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_search_until_and_language(db):
    hits = search(db, "party OR 党")
    assert {hit["site"] for hit in hits} == {"rocar", "henan"}
    days = sorted(hit["published"] for hit in hits if hit["published"])
    until = days[len(days) // 2]
    assert {hit["url"] for hit in search(db, "party OR 党", "--until", until)} == {
        hit["url"] for hit in hits if hit["published"] and hit["published"] <= until}
    store = Store(db, create=False)
    languages = {hit["url"]: store.find_article(article_id=hit["id"]).language for hit in hits}
    store.close()
    assert {hit["url"] for hit in search(db, "party OR 党", "--language", "en")} == {
        url for url, language in languages.items() if language == "en"}


@pytest.mark.parametrize("command", [["export"], ["search", "party"]])
def test_until_before_since_or_not_a_date_is_one_line_and_exit_2(db, command):
    assert_one_line_error(newscrawl(*command, "--db", db, "--since", "2022-01-01", "--until", "2021-01-01"),
                          "--until 2021-01-01 is before --since 2022-01-01")
    assert_one_line_error(newscrawl(*command, "--db", db, "--until", "yesterday"), "--until takes a date")


def test_crawl_until_skips_articles_the_list_dates_later_and_walks_on_to_older_ones(tmp_path):
    crawls = Crawls(tmp_path)
    fetched = crawls.run(LATER, "--until", "2021-04-08")
    recent = NEW | {COLUMN + "newsDetail/511.html", COLUMN + "newsDetail/502.html"}  # listed 2021-07-16 … 2021-04-09
    older = set(quality("rocar/later")["articles"]) - recent
    assert urls(fetched) - {ROBOTS} - LIST_PAGES == older
    assert set(crawls.stored()) == older
    assert crawls.last_run().counts.articles_skipped == len(recent)


def test_crawl_max_articles_stops_early_as_finished(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    # one page at a time, paced, so that few are under way when the limit is reached
    result = newscrawl("crawl", "rocar", "--replay", "--db", db, "--max-articles", "2", "--json",
                       "-s", "CONCURRENT_REQUESTS=1", "-s", "DOWNLOAD_DELAY=0.2")
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)
    assert summary["outcome"] == "finished"
    assert 2 <= summary["stored"] < len(quality("rocar")["articles"])
    store = Store(db, create=False)
    assert store.last_run("rocar").status == "finished"
    store.close()


def test_crawl_max_articles_must_be_positive(tmp_path):
    assert_one_line_error(newscrawl("crawl", "rocar", "--replay", "--db", f"sqlite:///{tmp_path / 'a.db'}",
                                    "--max-articles", "0"), "--max-articles takes a number of articles")
