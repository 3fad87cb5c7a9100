"""Chinese full-text search: a term of any length matches exactly the articles containing it
(checked against a LIKE scan of every fixture article), ranking by bm25 with the title weighted,
in the Store, the CLI and the Datasette search box; English search as before revision 0006."""

import asyncio
import dataclasses
import json
import re
import sqlite3
from contextlib import closing
from datetime import date

import pytest
from sqlalchemy import create_engine, text

from storage import ArticleRecord, Store, migrations
from storage.search_text import CJK, index_text, query_text, shown_text
from tests.cli_runner import newscrawl

RUN = re.compile(f"[{CJK}]+")
TERMS_PER_LENGTH = 400  # of each length, spread over every distinct term the fixtures contain


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    """A replayed crawl of every fixture site."""
    path = tmp_path_factory.mktemp("chinese") / "articles.db"
    result = newscrawl("crawl", "--replay", "--db", f"sqlite:///{path}")
    assert result.returncode == 0, result.stderr
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def fixture_store(db):
    store = Store(db, create=False)
    yield store
    store.close()


@pytest.fixture(scope="module")
def containing(db):
    """The ids of the articles whose title or text contains a string: a LIKE scan."""
    connection = sqlite3.connect(db.removeprefix("sqlite:///"))

    def scan(term: str, columns: tuple[str, ...] = ("title", "text")) -> set[int]:
        condition = " OR ".join(f"{column} LIKE :pattern" for column in columns)
        return {id for (id,) in connection.execute(f"SELECT id FROM articles WHERE {condition}",
                                                   {"pattern": f"%{term}%"})}

    yield scan
    connection.close()


def fixture_terms(db, length: int) -> list[str]:
    """Chinese terms of `length` characters taken from the stored titles and texts: every
    substring of a run of Chinese characters, and the characters on both sides of punctuation
    joined up (which may occur nowhere), spread evenly."""
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as connection:
        texts = [title + "\n" + text for title, text in connection.execute("SELECT title, text FROM articles")]
    terms = set()
    for text in texts:
        runs = RUN.findall(text)
        for run in runs + ["".join(pair) for pair in zip(runs, runs[1:])]:
            terms.update(run[start:start + length] for start in range(len(run) - length + 1))
    terms = sorted(terms)
    assert len(terms) > TERMS_PER_LENGTH, "the fixtures hold enough Chinese text to sample"
    step = len(terms) / TERMS_PER_LENGTH
    return [terms[int(i * step)] for i in range(TERMS_PER_LENGTH)]


@pytest.mark.parametrize("length", [1, 2, 4])
def test_a_term_finds_exactly_the_articles_that_contain_it(db, fixture_store, containing, length):
    found_somewhere = 0
    for term in fixture_terms(db, length):
        expected = containing(term)
        found = {hit.id for hit in fixture_store.search(term, limit=1000)}
        assert found == expected, term  # recall and precision 1.0
        found_somewhere += bool(expected)
    assert found_somewhere > TERMS_PER_LENGTH / 2  # most sampled terms do occur: recall is tested


def test_party_building_is_found_in_every_article_that_says_it(fixture_store, containing):
    expected = containing("党建")
    assert len(expected) >= 6
    hits = fixture_store.search("党建", limit=100)
    assert {hit.id for hit in hits} == expected
    assert {hit.id for hit in fixture_store.search('"党建"', limit=100)} == expected
    assert {hit.id for hit in fixture_store.search("党建*", limit=100)} == expected
    assert {hit.id for hit in fixture_store.search("text:党建", limit=100)} == containing("党建", ("text",))
    assert {hit.id for hit in fixture_store.search("title:党建", limit=100)} == containing("党建", ("title",))


def test_phrases_and_operators_work_on_chinese_words(fixture_store, containing):
    both = containing("党建") & containing("学习")
    assert {hit.id for hit in fixture_store.search("党建 学习", limit=100)} == both
    assert {hit.id for hit in fixture_store.search("党建 NOT 学习", limit=100)} == containing("党建") - both
    assert {hit.id for hit in fixture_store.search("党建 OR 学习", limit=100)} == containing("党建") | containing("学习")


ZH_TITLE = ArticleRecord(url="https://example.cn/1", site="zh", title="党建工作会议召开",
                         text="会议总结了上半年的工作。", published=date(2023, 3, 1), language="zh")
# 党建 three times in the body: without the title's weight this would rank first
ZH_BODY = ArticleRecord(url="https://example.cn/2", site="zh", title="上半年工作总结",
                        text="党建引领。党建先行。党建促发展。", published=date(2023, 2, 1), language="zh")
ZH_APART = ArticleRecord(url="https://example.cn/3", site="zh", title="通知",
                         text="加强党。建设队伍", published=date(2023, 1, 1), language="zh")


@pytest.fixture
def zh_store(store):
    for record in (ZH_TITLE, ZH_BODY, ZH_APART):
        store.save_article(record)
    return store


def test_a_chinese_match_in_the_title_ranks_above_matches_in_the_body(zh_store):
    hits = zh_store.search("党建")
    assert [hit.url for hit in hits] == [ZH_TITLE.url, ZH_BODY.url]  # not "党。建"
    assert hits[0].score < hits[1].score


def test_chinese_matches_are_marked_whole_and_shown_as_stored(zh_store):
    [hit] = zh_store.search("党建工作")
    assert hit.title == "[党建工作]会议召开"
    [hit] = zh_store.search("党建", site="zh", until=date(2023, 2, 28))
    assert hit.title == "上半年工作总结"
    assert hit.snippet == "[党建]引领。[党建]先行。[党建]促发展。"
    [hit] = zh_store.search("建设")
    assert hit.snippet == "加强党。[建设]队伍"


def test_the_index_follows_an_edited_chinese_article(zh_store):
    zh_store.save_article(dataclasses.replace(ZH_TITLE, title="安全生产会议召开"))
    assert [hit.url for hit in zh_store.search("党建")] == [ZH_BODY.url]
    assert [hit.url for hit in zh_store.search("安全")] == [ZH_TITLE.url]


def test_index_text_gives_pairs_and_shown_text_gives_the_text_back():
    assert index_text("2023年党建工作。") == "2023\u200b年党\u200b党建\u200b建工\u200b工作\u200b作\u200b。"
    assert index_text("A党B建工") == "A\u200b党\u200bB\u200b建工\u200b工\u200b"  # runs of one and two characters
    for text in ("2023年党建工作。党，建 abc党def", "Plain English, unchanged.", "党", ""):
        assert shown_text(index_text(text), ("[", "]")) == text
    assert index_text("Plain English, unchanged.") == "Plain English, unchanged."
    assert query_text('title:"party building" OR inspect*') == 'title:"party building" OR inspect*'


def test_one_character_is_marked_alone_and_overlapping_stretches_as_one(zh_store):
    [hit] = zh_store.search("议", site="zh")
    assert hit.title == "党建工作会[议]召开"
    [hit] = zh_store.search("党建工 OR 建工作", site="zh")
    assert hit.title == "[党建工作]会议召开"


# English queries over the fixtures: the results and their order are those of the index
# as revision 0002 made it (unicode61 over the stored title and text).
ENGLISH_QUERIES = ["party", "safety", "knowledge contest", '"party building"', "inspect*", "party NOT meeting",
                   "title:party", "company OR group", "NEAR(party committee)", "the", "work"]


@pytest.fixture(scope="module")
def ranked_before(db, tmp_path_factory):
    """The article ids an English query found before revision 0006, best first: a copy of the
    store with the index of revision 0002 built anew."""
    connection = sqlite3.connect(tmp_path_factory.mktemp("before") / "articles.db")
    with closing(sqlite3.connect(db.removeprefix("sqlite:///"))) as source:
        source.backup(connection)
    connection.execute("DROP TABLE articles_fts")
    connection.execute("CREATE VIRTUAL TABLE articles_fts USING fts5(title, text, content='articles', "
                       "content_rowid='id', tokenize='unicode61')")
    connection.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")

    def ranked(query: str) -> list[int]:
        return [id for (id,) in connection.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? ORDER BY bm25(articles_fts, 10.0, 1.0)",
            (query,))]

    yield ranked
    connection.close()


@pytest.mark.parametrize("query", ENGLISH_QUERIES)
def test_english_results_and_order_are_as_before(fixture_store, ranked_before, query):
    before = ranked_before(query)
    assert before, query
    assert [hit.id for hit in fixture_store.search(query, limit=1000)] == before


def test_search_in_chinese_from_the_command_line(db, containing):
    result = newscrawl("search", "党建", "--json", "--limit", "100", "--db", db)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert {hit["id"] for hit in hits} == containing("党建")
    assert all("[党建]" in hit["title"] + hit["snippet"] for hit in hits)
    assert "\u200b" not in result.stdout and "\ue000" not in result.stdout


def test_the_datasette_search_box_finds_chinese_words(db, containing):
    browse = pytest.importorskip("crawler.browse")
    datasette = browse.datasette(db.removeprefix("sqlite:///"))
    for term in ("党建", "党", "市直机关"):
        response = asyncio.run(datasette.client.get(
            f"/{browse.DATABASE}/articles.json?_search={term}&_shape=objects&_size=max"))
        assert response.status_code == 200, response.text
        assert {row["id"] for row in response.json()["rows"]} == containing(term), term


def test_db_upgrade_indexes_the_stored_chinese_articles(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    migrations.upgrade(engine, "0003")  # the schema before Chinese search
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO articles (id, url, site, title, text, content_hash, raw_html, first_seen, last_seen) "
            "VALUES (1, 'https://example.cn/1', 'zh', '郑州市直机关举办党务干部培训班', '9月1日，培训班开班。', "
            "'h', x'', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
    engine.dispose()
    result = newscrawl("db", "upgrade", "--db", url)
    assert result.returncode == 0, result.stderr
    store = Store(url, create=False)
    for term in ("党务", "训", "市直机关", "1日"):
        assert [hit.id for hit in store.search(term)] == [1], term
    assert store.search("日培") == []  # "日，培": punctuation between
    store.close()
