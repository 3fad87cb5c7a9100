"""SQLite search keeps the best `limit` articles early: its results and their order are those of a
plain ranking of every match by bm25 (title weighted 10, body 1; ties to the lower id), filtered
and cut afterwards."""

import random
import sqlite3
from contextlib import closing
from datetime import date, timedelta

import pytest

from storage import ArticleRecord, Store
from storage.search_text import has_cjk, query_text, register_sql_function

ENGLISH_WORDS = ("party building safety work meeting company contest knowledge inspection group "
                 "committee training study report plan budget staff project").split()
CHINESE_WORDS = ["党建", "工作", "学习", "会议", "培训", "安全", "企业", "党", "教育", "检查", "干部", "组织"]
SITES = ["alpha", "beta", "gamma"]
QUERIES = ["party", "safety", '"party building"', "inspect*", "party NOT meeting", "title:company",
           "work OR budget", "党", "党建", "党建工作", "党建 学习", "学习 NOT 会议", "title:会议"]
FILTERS = [{}, {"site": "beta"}, {"since": date(2021, 1, 1)}, {"until": date(2021, 12, 31)}, {"language": "zh"},
           {"site": "alpha", "since": date(2020, 6, 1), "until": date(2022, 6, 1)}]


def generated_articles(count: int) -> list[ArticleRecord]:
    """Articles of a few common words, so that most queries match many of them with scores
    spread by word counts and lengths; every fifth one has a twin that differs in one word
    no query asks for, so that scores tie."""
    rng = random.Random(5)
    records = []
    for number in range(count):
        chinese = number % 2 == 1
        words, joiner = (CHINESE_WORDS, "") if chinese else (ENGLISH_WORDS, " ")
        weights = [1 / rank for rank in range(1, len(words) + 1)]

        def sentence(length: int) -> str:
            return joiner.join(rng.choices(words, weights, k=length))

        title = sentence(rng.randint(2, 6))
        text = "。".join(sentence(rng.randint(3, 12)) for _ in range(rng.randint(1, 6)))
        published = None if number % 7 == 0 else date(2020, 1, 1) + timedelta(days=rng.randrange(1400))
        for twin in ("filler", "padding")[:1 + (number % 5 == 0)]:
            records.append(ArticleRecord(
                url=f"https://example.org/{number}-{twin}", site=SITES[number % 3], title=title,
                text=f"{text}。{twin}", published=published, language="zh" if chinese else "en"))
    return records


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("ranking") / "articles.db"
    store = Store(f"sqlite:///{path}")
    store.save_articles(generated_articles(600))
    store.close()
    return str(path)


@pytest.fixture(scope="module")
def every_match(db):
    """Every article a query matches, as (score, id, site, published, language), best first."""
    with closing(sqlite3.connect(db)) as connection:
        register_sql_function(connection)

        def ranked(query: str) -> list[tuple]:
            index = "articles_fts_cjk" if has_cjk(query) else "articles_fts"
            rows = connection.execute(
                f"SELECT bm25({index}, 10.0, 1.0), articles.id, site, published, language FROM {index} "
                f"JOIN articles ON articles.id = {index}.rowid WHERE {index} MATCH ?", (query_text(query),))
            return sorted(rows)

        yield ranked


def kept(row: tuple, site=None, since=None, until=None, language=None) -> bool:
    _, _, row_site, published, row_language = row
    return ((site is None or row_site == site) and (language is None or row_language == language)
            and (since is None or (published is not None and published >= since.isoformat()))
            and (until is None or (published is not None and published <= until.isoformat())))


@pytest.mark.parametrize("query", QUERIES)
def test_the_best_are_those_of_a_ranking_of_every_match(db, every_match, query):
    ranking = every_match(query)
    assert len(ranking) > 20, "the query matches more articles than a search keeps"
    with closing(Store(f"sqlite:///{db}")) as store:
        for filters in FILTERS:
            expected = [row for row in ranking if kept(row, **filters)]
            for limit in (1, 5, 20):
                hits = store.search(query, limit=limit, **filters)
                assert [(hit.score, hit.id) for hit in hits] == [row[:2] for row in expected[:limit]], \
                    (query, filters, limit)


def test_tied_scores_are_cut_by_id(db, every_match):
    ranking = every_match("party")
    scores = [score for score, *_ in ranking[:40]]
    assert len(set(scores)) < len(scores), "the generated twins tie near the top"
    tie = next(i for i in range(1, len(scores)) if scores[i] == scores[i - 1])
    with closing(Store(f"sqlite:///{db}")) as store:
        assert [hit.id for hit in store.search("party", limit=tie)] == [row[1] for row in ranking[:tie]]


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_ranking_the_ids_in_stretches_at_once_finds_the_same_best(db, every_match, monkeypatch, parts):
    """Each stretch of ids is ranked on its own connection; bm25 takes its statistics from the
    whole index, so the stretches' best merged are those of one ranking, whatever the cut."""
    monkeypatch.setattr("storage.reader._RANKING_PARTS", parts)
    monkeypatch.setattr("storage.reader._STRETCH_IDS", 1)
    with closing(Store(f"sqlite:///{db}")) as store:
        for query in ("party", '"party building"', "党建", "党建 学习"):
            ranking = every_match(query)
            for filters in ({}, {"site": "beta"}, {"since": date(2021, 1, 1), "language": "zh"}):
                expected = [row[:2] for row in ranking if kept(row, **filters)][:20]
                assert [(hit.score, hit.id) for hit in store.search(query, **filters)] == expected, \
                    (query, filters, parts)


@pytest.mark.parametrize("spare", [0.01, 2, 1000])
def test_filters_checked_on_the_best_unfiltered_matches_find_the_same_best(db, every_match, monkeypatch, spare):
    """Every filter is checked on the best unfiltered matches first: too few of them pass
    (spare 0.01: the whole ranking again, filtered), enough pass, or they are every match (1000)."""
    monkeypatch.setattr("storage.reader._BROAD_FILTER", 0.0)
    monkeypatch.setattr("storage.reader._SPARE", spare)
    with closing(Store(f"sqlite:///{db}")) as store:
        for query in ("party", "党建", "title:会议"):
            ranking = every_match(query)
            for filters in FILTERS[1:]:
                expected = [row[:2] for row in ranking if kept(row, **filters)]
                for limit in (1, 5, 20):
                    hits = store.search(query, limit=limit, **filters)
                    assert [(hit.score, hit.id) for hit in hits] == expected[:limit], (query, filters, limit)


def test_an_in_memory_store_is_ranked_on_its_own_connection(monkeypatch):
    monkeypatch.setattr("storage.reader._STRETCH_IDS", 1)
    with closing(Store("sqlite://")) as store:
        store.save_articles(generated_articles(60))
        hits = store.search("party")
        assert hits and all("party" in hit.title.lower() or "party" in hit.snippet.lower() for hit in hits)
