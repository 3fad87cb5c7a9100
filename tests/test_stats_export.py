"""`newscrawl stats` (sites, stories, crawl health, --runs) and `newscrawl export` (filters,
clusters, Parquet), through the real command on a replayed store."""

import csv
import io
import json
from datetime import date, datetime, timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, text

from crawler.commands.export import FIELDS, write_parquet
from storage import RunCounts, Store
from tests.cli_runner import newscrawl
from tests.fixture_sites import quality
from tests.test_cli import assert_one_line_error

SITES = ["bluestar", "jfmi", "rocar"]
SEED_URL = "http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends/201610/t20161010_104333.html"
FAILURE = ("Connection refused by www.rocar.net while fetching the list page "
           "https://www.rocar.net/en/menu139/?page=2\nTraceback follows")


def articles_of(site: str) -> int:
    return len(quality(site)["articles"])


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Three sites replayed; then clusters of our own in place of those near-duplicate
    detection found (two rocar articles reprint the jfmi seed story, one bluestar article
    reprints another) and a failed last run of rocar."""
    url = f"sqlite:///{tmp_path_factory.mktemp('stats') / 'articles.db'}"
    result = newscrawl("crawl", *SITES, "--replay", "--db", url)
    assert result.returncode == 0, result.stderr
    engine = create_engine(url)
    with engine.begin() as connection:
        def first_two(site):
            return connection.execute(text("SELECT id, url FROM articles WHERE site = :site ORDER BY id LIMIT 2"),
                                      {"site": site}).all()

        connection.execute(text("UPDATE articles SET duplicate_of = NULL"))
        seed = connection.execute(text("SELECT id FROM articles WHERE url = :url"), {"url": SEED_URL}).scalar_one()
        reprints = first_two("rocar")
        bluestar = first_two("bluestar")
        connection.execute(text("UPDATE articles SET duplicate_of = :original WHERE id = :copy"),
                           [{"original": seed, "copy": reprints[0].id}, {"original": seed, "copy": reprints[1].id},
                            {"original": bluestar[0].id, "copy": bluestar[1].id}])
        started = connection.execute(text("SELECT max(started_at) FROM crawl_runs")).scalar_one()
        started = datetime.fromisoformat(started) + timedelta(minutes=1)
        connection.execute(text(
            "INSERT INTO crawl_runs (spider, started_at, finished_at, status, pages, errors, error) "
            "VALUES ('rocar', :started, :finished, 'interrupted', 2, 3, :error)"),
            {"started": started, "finished": started + timedelta(seconds=90), "error": FAILURE})
    engine.dispose()
    return {"url": url, "reprints": [reprint.url for reprint in reprints], "total": sum(map(articles_of, SITES))}


def stats_json(store, *options):
    result = newscrawl("stats", "--json", *options, "--db", store["url"])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def export(store, *options) -> list[dict]:
    result = newscrawl("export", *options, "--db", store["url"])
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


# -- stats -----------------------------------------------------------------


def test_stats_table_counts_articles_stories_and_recent_trouble(store):
    lines = newscrawl("stats", "--db", store["url"]).stdout.splitlines()
    assert lines[0].split() == ["site", "articles", "stories", "latest", "last", "outcome", "last", "success", "no",
                                "body", "failed", "errors", "unextracted"]
    rows = {line.split()[0]: line.split() for line in lines[1:-1]}
    assert list(rows) == [*SITES, "total"]
    assert rows["rocar"][4] == "interrupted" and rows["jfmi"][4] == "finished"
    assert rows["jfmi"][7] == datetime.now().astimezone().strftime("%Z")  # last success: date, time, zone
    # rocar: 7 articles, two of them copies of one jfmi story, so 6 stories; its last run failed
    assert rows["rocar"][1:3] == [str(articles_of("rocar")), str(articles_of("rocar") - 1)]
    assert rows["rocar"][-4:] == ["0", "1", "3", "0"]
    assert rows["bluestar"][1:3] == [str(articles_of("bluestar")), str(articles_of("bluestar") - 1)]
    assert rows["bluestar"][-4:] == ["1", "0", "0", "0"]  # the video page without a body
    assert rows["jfmi"][1:3] == [str(articles_of("jfmi"))] * 2
    assert rows["total"] == ["total", str(store["total"]), str(store["total"] - 3)]
    assert "last 5 crawl runs" in lines[-1]
    # columns line up: every value ends where its header ends
    assert len({len(line) for line in lines[:-2]}) == 1


def test_stats_json_says_the_same_for_scripts(store):
    stats = stats_json(store)
    sites = {site["site"]: site for site in stats["sites"]}
    rocar = sites["rocar"]
    # the table's columns, under its headers
    assert list(rocar)[:10] == ["site", "articles", "stories", "latest", "last_outcome", "last_success", "no_body",
                                "failed", "errors", "unextracted"]
    assert (rocar["articles"], rocar["stories"]) == (articles_of("rocar"), articles_of("rocar") - 1)
    assert rocar["last_outcome"] == "interrupted"
    assert datetime.fromisoformat(rocar["last_success"]).tzinfo is not None  # with its zone
    assert (rocar["no_body"], rocar["failed"], rocar["errors"]) == (0, 1, 3)
    assert rocar["errors_by_kind"] == {} and rocar["warnings"] == []
    assert sites["bluestar"]["no_body"] == 1
    assert sites["jfmi"]["latest"] == max(
        article["published"] for article in export(store, "--site", "jfmi") if article["published"])
    assert stats["total"] == {"articles": store["total"], "stories": store["total"] - 3}
    assert stats["recent_runs_window"] == 5


def test_stats_runs_lists_the_latest_runs_newest_first(store):
    lines = newscrawl("stats", "--runs", "--db", store["url"]).stdout.splitlines()
    assert lines[0].split() == ["id", "site", "started", "duration", "outcome", "pages", "new", "updated",
                                "unchanged", "duplicates", "no", "body", "errors", "skipped", "not", "modified",
                                "message"]
    assert len(lines) == 1 + len(SITES) + 1
    failed = lines[1].split()
    assert failed[1] == "rocar" and failed[5:8] == ["0:01:30", "interrupted", "2"]  # after date, time, zone
    # the error message: its first line, cut to fit a terminal
    assert lines[1].endswith("Connection refused by www.rocar.net while fetching the list…")
    assert {line.split()[1] for line in lines[2:]} == set(SITES)
    assert all(line.split()[6] == "finished" for line in lines[2:])


def test_stats_runs_json_and_limit(store):
    [latest, previous] = stats_json(store, "--runs", "2")
    assert list(latest)[:15] == ["id", "site", "started", "duration", "outcome", "pages", "new", "updated",
                                 "unchanged", "duplicates", "no_body", "errors", "skipped", "not_modified", "message"]
    assert (latest["site"], latest["outcome"], latest["error"], latest["message"]) == (
        "rocar", "interrupted", FAILURE, FAILURE)
    assert latest["errors"] == 3 and latest["duration"] == 90 and latest["id"] > previous["id"]
    assert datetime.fromisoformat(latest["finished"]) - datetime.fromisoformat(latest["started"]) == timedelta(
        seconds=90)
    assert previous["outcome"] == "finished" and previous["error"] is None
    assert previous["new"] == articles_of(previous["site"]) and previous["host"] and previous["pid"]


def test_stats_adds_up_only_the_last_five_runs_and_lists_twenty(tmp_path):
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    store = Store(url)
    for number in range(25):  # the oldest 20 had a page without body each; the last 5 had none
        status = "interrupted" if number in (3, 22) else "finished"
        store.finish_run(store.start_run("example"), status,
                         RunCounts(pages=number, empty_pages=int(number < 20), errors=1))
    store.close()
    [example] = json.loads(newscrawl("stats", "--json", "--db", url).stdout)["sites"]
    assert (example["failed"], example["no_body"], example["errors"]) == (1, 0, 5)
    assert example["last_outcome"] == "finished" and example["articles"] == 0
    runs = json.loads(newscrawl("stats", "--runs", "--json", "--db", url).stdout)
    assert [run["pages"] for run in runs] == list(range(24, 4, -1))


def test_stats_runs_beyond_any_store_lists_every_run(store):
    every = stats_json(store, "--runs", "1000")
    assert stats_json(store, "--runs", str(10**30)) == every and len(every) < 1000


def test_stats_runs_needs_a_positive_number(store):
    assert_one_line_error(newscrawl("stats", "--runs", "0", "--db", store["url"]), "--runs", "1 or more")


# -- export ----------------------------------------------------------------


def test_every_exported_article_names_its_cluster(store):
    articles = export(store)
    assert len(articles) == store["total"]
    assert all(list(article) == FIELDS for article in articles)
    copies = {article["url"]: article["duplicate_of"] for article in articles if article["duplicate_of"]}
    assert {url: copies[url] for url in store["reprints"]} == dict.fromkeys(store["reprints"], SEED_URL)
    assert len(copies) == 3 and all(original not in copies for original in copies.values())


def test_export_unique_keeps_one_article_per_story(store):
    articles = export(store, "--unique")
    urls = {article["url"] for article in articles}
    assert len(articles) == store["total"] - 3
    assert SEED_URL in urls and not urls & set(store["reprints"])
    assert all(article["duplicate_of"] is None for article in articles)


def test_export_site_is_repeatable(store):
    articles = export(store, "--site", "rocar", "--site", "bluestar")
    assert {article["site"] for article in articles} == {"rocar", "bluestar"}
    assert len(articles) == articles_of("rocar") + articles_of("bluestar")


def test_export_since_keeps_articles_published_that_day_or_later(store):
    everything = export(store)
    day = sorted(article["published"] for article in everything if article["published"])[len(everything) // 2]
    recent = export(store, "--since", day)
    assert 0 < len(recent) < len(everything)
    assert [a["url"] for a in recent] == [a["url"] for a in everything
                                          if a["published"] and a["published"] >= day]


def test_export_filters_combine(store):
    articles = export(store, "--site", "rocar", "--unique", "--since", "2000-01-01")
    assert len(articles) == articles_of("rocar") - 2
    assert {article["site"] for article in articles} == {"rocar"}


def test_export_csv_has_the_duplicate_of_column(store, tmp_path):
    out = tmp_path / "articles.csv"
    assert newscrawl("export", "--format", "csv", "-o", str(out), "--db", store["url"]).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert list(rows[0]) == FIELDS and len(rows) == store["total"]
    by_url = {row["url"]: row for row in rows}
    assert by_url[store["reprints"][0]]["duplicate_of"] == SEED_URL
    assert by_url[SEED_URL]["duplicate_of"] == ""
    assert by_url[SEED_URL]["published"] == "2016-07-27"
    assert datetime.fromisoformat(by_url[SEED_URL]["first_seen"]).year >= 2026


def test_export_parquet_holds_the_same_articles_with_typed_columns(store, tmp_path):
    out = tmp_path / "articles.parquet"
    result = newscrawl("export", "--format", "parquet", "-o", str(out), "--db", store["url"])
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    assert table.schema.names == FIELDS
    assert table.schema.field("published").type == pa.date32()
    assert table.schema.field("first_seen").type == pa.timestamp("us")
    as_json = [{name: value.isoformat() if isinstance(value, date) else value for name, value in row.items()}
               for row in table.to_pylist()]
    assert as_json == export(store)


def test_export_parquet_with_filters(store, tmp_path):
    out = tmp_path / "rocar.parquet"
    assert newscrawl("export", "--format", "parquet", "-o", str(out), "--site", "rocar", "--unique",
                     "--db", store["url"]).returncode == 0
    assert pq.read_table(out, columns=["site"]).column("site").to_pylist() == ["rocar"] * (articles_of("rocar") - 2)


def test_parquet_is_written_a_batch_at_a_time():
    articles = [{"url": f"https://example.org/{n}", "site": "example", "title": f"Story {n}", "text": "标题",
                 "published": date(2024, 1, n + 1), "first_seen": datetime(2024, 2, 1, 8, 30, n)} for n in range(5)]
    buffer = io.BytesIO()
    write_parquet(iter(articles), buffer, batch_size=2)
    parquet = pq.ParquetFile(io.BytesIO(buffer.getvalue()))
    assert parquet.metadata.num_row_groups == 3
    rows = parquet.read().to_pylist()
    assert [row["published"] for row in rows] == [date(2024, 1, n + 1) for n in range(5)]
    assert rows[4]["text"] == "标题" and rows[4]["duplicate_of"] is None


def test_export_parquet_needs_a_file(store):
    assert_one_line_error(newscrawl("export", "--format", "parquet", "--db", store["url"]), "-o FILE")


def test_export_parquet_without_pyarrow_says_how_to_get_it(store, tmp_path):
    # what Python does when a package is absent: importing it raises ImportError
    (tmp_path / "sitecustomize.py").write_text("import sys\nsys.modules['pyarrow'] = None\n")
    out = tmp_path / "articles.parquet"
    result = newscrawl("export", "--format", "parquet", "-o", str(out), "--db", store["url"],
                       env={"PYTHONPATH": str(tmp_path)})
    assert_one_line_error(result, "needs pyarrow", "newscrawl[parquet]")
    assert not out.exists()


@pytest.mark.parametrize("options, message", [
    (["--since", "last week"], "--since takes a date like 2024-05-31, not 'last week'"),
    (["--since", "2024-02-30"], "not '2024-02-30'"),
    (["--site", "rocar", "--site", "nosuchsite"], "no site 'nosuchsite' in the store; it has: bluestar, jfmi, rocar"),
    (["--language", "en", "--language", "cn"], "no article in language 'cn' in the store; it has: en"),
])
def test_export_bad_filters(store, options, message):
    assert_one_line_error(newscrawl("export", *options, "--db", store["url"]), message)
