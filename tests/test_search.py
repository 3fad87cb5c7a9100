"""Full-text search, on SQLite (FTS5) and PostgreSQL: kept in sync by the database, ranking, marked matches,
bad queries."""

import dataclasses
import json
from datetime import date

import pytest

from storage import ArticleRecord, Store, StoreError
from storage.reader import MAX_QUERY_WORDS
from tests.cli_runner import newscrawl
from tests.test_cli import assert_one_line_error

IN_TITLE = ArticleRecord(url="https://example.org/1", site="alpha", title="Quarterly meeting on safety",
                         text="The board met on Monday.\nIt discussed the budget.", published=date(2022, 1, 25))
# "safety" three times in a short body: without the title's weight this would rank first
IN_BODY = ArticleRecord(url="https://example.org/2", site="alpha", title="Annual report",
                        text="Safety first. Safety audits. Safety drills for the budget.", published=date(2021, 5, 1))
ELSEWHERE = ArticleRecord(url="https://other.example.org/3", site="beta", title="Safety week",
                          text="A week of drills.", published=date(2023, 3, 1))
CONTEST = "http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends/201610/t20161010_104335.html"


@pytest.fixture
def store(store):
    """The three articles above, stored."""
    for record in (IN_TITLE, IN_BODY, ELSEWHERE):
        store.save_article(record)
    return store


@pytest.fixture(scope="module")
def db(jfmi_store):
    return jfmi_store()


def test_a_match_in_the_title_ranks_above_matches_in_the_body(store):
    hits = store.search("safety", site="alpha")
    assert [hit.url for hit in hits] == [IN_TITLE.url, IN_BODY.url]
    assert hits[0].score < hits[1].score  # bm25: lower is better


def test_matches_are_marked_in_the_title_and_the_snippet(store):
    [hit] = store.search("budget safety", site="alpha", limit=1)
    assert hit.title == "Quarterly meeting on [safety]"
    assert "[budget]" in hit.snippet
    [hit] = store.search("drills", site="beta", marks=("<b>", "</b>"))
    assert hit.snippet == "A week of <b>drills</b>."


def test_site_since_and_limit_narrow_the_results(store):
    assert {hit.site for hit in store.search("safety")} == {"alpha", "beta"}
    assert {hit.url for hit in store.search("safety", since=date(2022, 1, 1))} == {IN_TITLE.url, ELSEWHERE.url}
    assert len(store.search("safety", limit=1)) == 1


def test_a_limit_beyond_any_store_gives_every_match(store):
    """A limit larger than the database's LIMIT takes (a 64-bit integer) is no limit, not an overflow."""
    for limit in (2**31, 2**63, 10**30):
        assert [hit.url for hit in store.search("safety", limit=limit)] == [hit.url for hit in store.search("safety")]
        assert len(store.search("safety", site="alpha", limit=limit)) == 2
        assert len(store.search("safety", since=date(2022, 1, 1), limit=limit)) == 2


def test_the_index_follows_an_updated_article(store):
    store.save_article(dataclasses.replace(IN_TITLE, title="Quarterly meeting",
                                           text="The board met on Tuesday to plan the renovation."))
    assert [hit.url for hit in store.search("renovation")] == [IN_TITLE.url]
    assert store.search("Monday") == []
    assert {hit.url for hit in store.search("safety")} == {IN_BODY.url, ELSEWHERE.url}


def test_a_query_of_more_words_than_anyone_searches_with_is_refused(store):
    """Its time grows with the square of its words: 400 took 10 s on a store of 42 articles."""
    longest = " ".join(["safety"] * MAX_QUERY_WORDS)
    assert {hit.url for hit in store.search(longest)} == {hit.url for hit in store.search("safety")}
    with pytest.raises(StoreError, match=rf"^bad search query: {MAX_QUERY_WORDS + 1} words, more than"):
        store.search(longest + " safety")


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "foo:", "covid-19"])
def test_a_malformed_query_is_a_one_line_store_error(store, query):
    with pytest.raises(StoreError, match=r"^bad search query .+: .+$"):
        store.search(query)


CHINESE = ArticleRecord(url="http://www.hnjgdj.gov.cn/1.html", site="henan", title="郑州市直机关举办党务干部培训班",
                        text="9月1日，郑州市直机关举办党务干部培训班。主讲人：王喆。", published=date(2023, 9, 1))


@pytest.mark.parametrize("term, found", [("培训", True), ("郑州市直机关", True), ("王", True), ("党务干部培训班", True),
                                         ("培训班级", False), ("北京", False)])
def test_a_chinese_term_of_any_length_matches_the_articles_that_contain_it(postgres, term, found):
    # PostgreSQL here; the SQLite search matches Chinese substrings with the branch that brings it (i11-search)
    store = Store(postgres.new_database())
    store.save_article(CHINESE)
    hits = store.search(term)
    assert [hit.url for hit in hits] == ([CHINESE.url] if found else [])
    if found:
        assert f"[{term}]" in hits[0].title + hits[0].snippet


def test_words_phrases_prefixes_or_not_and_title_mean_the_same_on_both_stores(store):
    def urls(query):
        return {hit.url for hit in store.search(query)}

    assert urls("safety budget") == {IN_TITLE.url, IN_BODY.url}
    assert urls('"safety audits"') == {IN_BODY.url}
    assert urls("drill*") == {IN_BODY.url, ELSEWHERE.url}
    assert urls("monday OR week") == {IN_TITLE.url, ELSEWHERE.url}
    assert urls("safety NOT budget") == {ELSEWHERE.url}
    assert urls("title:safety") == {IN_TITLE.url, ELSEWHERE.url}


def test_a_prefix_query_marks_every_word_it_matched(store):
    # (SQLite marks a prefix query's hits in one pass over its matches, not by looking each up)
    hits = store.search("drill* OR safe*")
    assert {hit.url for hit in hits} == {IN_TITLE.url, IN_BODY.url, ELSEWHERE.url}
    shown = {hit.url: hit.title + " " + hit.snippet for hit in hits}
    assert "[drills]" in shown[IN_BODY.url] and "[Safety]" in shown[IN_BODY.url], shown
    assert "[Safety]" in shown[ELSEWHERE.url] and "[drills]" in shown[ELSEWHERE.url], shown
    assert "[safety]" in shown[IN_TITLE.url], shown


def test_search_prints_ranked_blocks_with_marked_matches(db):
    result = newscrawl("search", "knowledge contest", "--db", db)
    assert result.returncode == 0, result.stderr
    rank, snippet, url = result.stdout.splitlines()[:3]
    assert rank == ("  1. 2016-06-30  jfmi  JFMI Held the Party [Knowledge] [Contest] to Celebrate "
                    "the 95th Anniversary of the Founding of the CPC")
    assert "The [contest] further aroused" in snippet and "the Party [knowledge]" in snippet
    assert url.strip() == CONTEST


def test_search_json_with_filters(db):
    result = newscrawl("search", "party", "--since", "2016-07-01", "--limit", "3", "--json", "--db", db)
    hits = json.loads(result.stdout)
    assert [hit["rank"] for hit in hits] == [1, 2, 3]
    assert all(hit["published"] >= "2016-07-01" and hit["site"] == "jfmi" for hit in hits)
    assert [hit["score"] for hit in hits] == sorted(hit["score"] for hit in hits)
    assert all("[party]" in (hit["title"] + hit["snippet"]).lower() for hit in hits)


def test_search_without_a_match(db):
    result = newscrawl("search", "zeppelin", "--db", db)
    assert result.returncode == 0 and result.stdout.strip() == "no article matches 'zeppelin'"


@pytest.mark.parametrize("query", ['"unbalanced', "AND", "foo:"])
def test_search_with_a_malformed_query(db, query):
    assert_one_line_error(newscrawl("search", query, "--db", db), "bad search query")


@pytest.mark.parametrize("option, fragment", [(["--since", "last week"], "--since takes a date"),
                                              (["--limit", "0"], "--limit takes a positive number"),
                                              (["--site", "nosuchsite"], "no site 'nosuchsite'"),
                                              (["--language", "cn"], "no article in language 'cn' in the store")])
def test_search_with_bad_options(db, option, fragment):
    assert_one_line_error(newscrawl("search", "party", *option, "--db", db), fragment)
