"""Near-duplicates: the fixture reprints found in a replayed crawl, precision and recall on
a labelled set of 2,000 articles, and lookups that cost the same however large the store."""

import dataclasses
import itertools
import json
from collections import Counter
from datetime import date

import pytest
from alembic import command
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, text

from crawler.items import ArticleItem
from crawler.pipelines import StoreArticles
from crawler.runner import FIXTURES
from storage import ArticleRecord, SaveOutcome, Store, migrations
from storage.near_duplicates import (BANDS, CONTAINMENT, DEFAULT_THRESHOLD, Fingerprint, band_keys,
                                     candidate_probability, candidates)
from tests.cli_runner import newscrawl
from tests.labelled_reprints import LabelledArticle, labelled_articles
from tests.test_cli import assert_one_line_error

BLUESTAR = "http://www.chinabluestar.com/lanxingen/xwymt/hhxw/webinfo"
# The aggregator's reprints of Bluestar stories, with the originals they must be linked to.
REPRINTS = {
    "https://4ll.net/society/141790.html": f"{BLUESTAR}/2022/01/1644447674338257.htm",  # the seed story
    "https://4ll.net/society/141418.html": f"{BLUESTAR}/2021/11/1637912655083316.htm",
    "https://4ll.net/society/141602.html": f"{BLUESTAR}/2021/12/1639706823105447.htm",
}
# Two meetings of one committee, each pair written from one template.
JFMI = "http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends"
NEAR_MISSES = [
    (f"{JFMI}/201703/t20170321_105112.html", f"{JFMI}/201601/t20160121_103829.html"),
    ("http://www.hnjgdj.gov.cn/2023/03-08/222671.html", "http://www.hnjgdj.gov.cn/2022/03-10/218306.html"),
]


def golden_text(site: str, page: str) -> str:
    golden = json.loads((FIXTURES / site / "pages" / page).read_text(encoding="utf-8"))
    return "\n".join(golden["paragraphs"])


SEED = ArticleRecord(url=f"{BLUESTAR}/2022/01/1644447674338257.htm", site="bluestar",
                     title="Bluestar Holds Party Building Debriefing Meeting",
                     text=golden_text("bluestar", "hhxw-webinfo-2022-01-1644447674338257.json"),
                     published=date(2022, 1, 25), language="en")
# The seed as an aggregator reprints it: two days later, an editor's line added, the last paragraph gone.
SEED_REPRINT = dataclasses.replace(
    SEED, url="https://reprints.example/1.html", site="reprints", published=date(2022, 1, 27),
    title="ChemChina: " + SEED.title,
    text="Editor's note: first published by ChemChina.\n" + SEED.text.rsplit("\n", 1)[0])

# A reprint that keeps the first four paragraphs, the long fifth and the last dropped: under
# half of the seed's shingles, and almost nothing but them.
TRIMMED_REPRINT = dataclasses.replace(
    SEED_REPRINT, url="https://reprints.example/trimmed.html",
    text="\n".join(["Editor's note: this article was first published by ChemChina on its WeChat account "
                    "on January 25.", *SEED.text.split("\n")[:4]]))


def original_of(store: Store, url: str) -> str | None:
    return next(article["duplicate_of"] for article in store.articles() if article["url"] == url)


# -- how texts are compared --------------------------------------------------------------------

def test_case_punctuation_spacing_and_thousands_separators_do_not_count():
    assert (Fingerprint.of("On May 5,  2,000 Party members “met”-\nand talked.").shingles
            == Fingerprint.of("on may 5 2000 party members met and talked").shingles)


def test_only_a_comma_between_a_digit_and_three_digits_is_a_thousands_separator():
    assert Fingerprint.of("1,23 and 1,2345, 12,345,678 or ,123 and 9，999").tokens == (
        "1", "23", "and", "1", "2345", "12345678", "or", "123", "and", "9999")


def test_chinese_is_read_character_by_character():
    assert Fingerprint.of("2023年会议强调，要").tokens == ("2023", "年", "会", "议", "强", "调", "要")


def test_a_filled_in_template_contradicts_its_sibling_and_a_reprint_does_not():
    sibling = Fingerprint.of(SEED.text.replace("On January 24", "On March 7").replace("about 290", "about 170"))
    seed = Fingerprint.of(SEED.text)
    assert seed.similarity(sibling) >= DEFAULT_THRESHOLD and seed.contradicts(sibling)
    assert not seed.contradicts(Fingerprint.of(SEED_REPRINT.text))


def test_copies_at_the_threshold_are_almost_surely_candidates_and_unrelated_texts_are_not():
    assert candidate_probability(0.6) > 0.98
    assert candidate_probability(0.1) < 0.005


def test_a_reprint_that_drops_the_long_paragraphs_is_contained_in_the_original():
    seed, trimmed = Fingerprint.of(SEED.text), Fingerprint.of(TRIMMED_REPRINT.text)
    assert seed.similarity(trimmed) < DEFAULT_THRESHOLD and trimmed.containment(seed) >= CONTAINMENT
    assert seed.containment(trimmed) == trimmed.containment(seed)


def test_a_trimmed_reprint_is_linked_to_its_original(store):
    store.save_article(SEED)
    store.save_article(TRIMMED_REPRINT)
    assert original_of(store, TRIMMED_REPRINT.url) == SEED.url


# -- the store ---------------------------------------------------------------------------------

def test_a_reprint_joins_the_cluster_of_its_original(store):
    store.save_article(SEED)
    assert store.save_article(SEED_REPRINT) is SaveOutcome.NEW  # every copy is kept
    assert original_of(store, SEED_REPRINT.url) == SEED.url
    assert original_of(store, SEED.url) is None


def test_an_original_stored_after_its_reprints_becomes_the_root(store):
    later = dataclasses.replace(SEED_REPRINT, url="https://reprints.example/2.html", published=date(2022, 2, 3),
                                text=SEED_REPRINT.text + "\n(Editor: Li Na)")
    store.save_article(SEED_REPRINT)
    store.save_article(later)
    assert original_of(store, later.url) == SEED_REPRINT.url
    store.save_article(SEED)
    assert {url: original_of(store, url) for url in (SEED.url, SEED_REPRINT.url, later.url)} == {
        SEED.url: None, SEED_REPRINT.url: SEED.url, later.url: SEED.url}


def test_an_updated_article_is_found_by_its_new_text_only(store):
    other = golden_text("jfmi", "article-201610-t20161010_104333.json")
    store.save_article(SEED)
    assert store.save_article(dataclasses.replace(SEED, text=other)) is SaveOutcome.UPDATED
    copy_of_new = dataclasses.replace(SEED, url="https://reprints.example/new.html", text="Editor's note.\n" + other)
    store.save_article(copy_of_new)
    store.save_article(SEED_REPRINT)
    assert original_of(store, copy_of_new.url) == SEED.url
    assert original_of(store, SEED_REPRINT.url) is None


def test_the_threshold_is_a_setting(tmp_path):
    strict = Store(f"sqlite:///{tmp_path / 'strict.db'}", near_duplicate_threshold=0.99)
    strict.save_article(SEED)
    strict.save_article(SEED_REPRINT)
    assert original_of(strict, SEED_REPRINT.url) is None
    for threshold in (0, 1.5):
        with pytest.raises(ValueError, match="threshold"):
            Store(f"sqlite:///{tmp_path / 'bad.db'}", near_duplicate_threshold=threshold)


@pytest.mark.parametrize(("threshold", "message"), [
    ("abc", "-s NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD takes a number (default: 0.5), not 'abc'"),  # as any number setting
    ("2", "NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD is a similarity in (0, 1], not '2'")])
def test_a_bad_threshold_setting_is_one_line_before_crawling(tmp_path, threshold, message):
    result = newscrawl("crawl", "jfmi", "--replay", "--db", f"sqlite:///{tmp_path / 'articles.db'}",
                       "-s", f"NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD={threshold}")
    assert_one_line_error(result, message)


def test_the_pipeline_counts_near_duplicates(tmp_path):
    crawler = get_crawler(settings_dict={"NEWSCRAWL_DB": f"sqlite:///{tmp_path / 'articles.db'}",
                                         "NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD": DEFAULT_THRESHOLD})
    pipeline = StoreArticles.from_crawler(crawler)
    pipeline.open_spider()
    try:
        for record in (SEED, SEED_REPRINT):
            pipeline.process_item(ArticleItem(url=record.url, site=record.site, html="<p></p>", title=record.title,
                                              published=record.published, text=record.text))
    finally:
        pipeline.close_spider()
    assert crawler.stats.get_value("newscrawl/articles_new") == 2
    assert crawler.stats.get_value("newscrawl/near_duplicates") == 1


# -- the fixture sites -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def crawled(tmp_path_factory) -> dict[str, dict]:
    """Every fixture site replayed into one store, the aggregator first: its reprints are
    stored before their originals, which must then become the roots of their clusters."""
    db = f"sqlite:///{tmp_path_factory.mktemp('near-duplicates') / 'articles.db'}"
    for sites in (["4ll"], []):
        result = newscrawl("crawl", *sites, "--replay", "--db", db)
        assert result.returncode == 0, result.stderr
    store = Store(db, create=False)
    yield {article["url"]: article for article in store.articles()}
    store.close()


def test_replayed_crawl_links_exactly_the_reprints_to_their_originals(crawled):
    links = {url: article["duplicate_of"] for url, article in crawled.items() if article["duplicate_of"]}
    assert links == REPRINTS


@pytest.mark.parametrize("pair", NEAR_MISSES, ids=["jfmi", "henan"])
def test_meetings_written_from_one_template_stay_apart(crawled, pair):
    first, second = (crawled[url] for url in pair)
    assert first["duplicate_of"] is None and second["duplicate_of"] is None
    # as similar as copies: only their different dates and numbers keep them apart
    assert Fingerprint.of(first["text"]).similarity(Fingerprint.of(second["text"])) >= DEFAULT_THRESHOLD


# -- a labelled set ----------------------------------------------------------------------------

@dataclasses.dataclass
class LabelledRun:
    articles: list[LabelledArticle]  # as generated, in the order they were saved
    stored: dict[str, dict]  # url -> the article as stored
    lookup_steps: tuple[int, int]  # SQLite VM steps of some lookups, with half and with all the set stored


def lookup_steps(store: Store, probes: list[str]) -> int:
    """SQLite virtual-machine instructions run to find the candidates of the probe texts:
    a measure of a lookup's work that, unlike time, is the same on every run."""
    keys = [Fingerprint.of(text).band_keys() for text in probes]
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    with store.engine.connect() as connection:
        sqlite = connection.connection.dbapi_connection
        sqlite.set_progress_handler(count, 1)
        try:
            for probe in keys:
                candidates(connection, probe)
        finally:
            sqlite.set_progress_handler(None, 1)
    return steps


WRITE_BATCH = 200  # NEWSCRAWL_WRITE_BATCH_SIZE's default


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> LabelledRun:
    """Over 2,000 articles (stories, their reprints, template meetings) saved through the
    Store in batches as a crawl's writer saves them (each article as if saved after the ones
    before it), in an order where reprints often come before their originals."""
    articles = labelled_articles(seed=2026, stories=1050)
    probes = [article.text for article in labelled_articles(seed=7, stories=30)]
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('labelled') / 'articles.db'}")
    steps = []
    half = len(articles) // 2
    for part in (articles[:half], articles[half:]):
        for start in range(0, len(part), WRITE_BATCH):
            store.save_articles([ArticleRecord(url=article.url, site=article.url.split("/")[2], title=article.title,
                                               text=article.text, published=article.published,
                                               language=article.language)
                                 for article in part[start:start + WRITE_BATCH]])
        steps.append(lookup_steps(store, probes))
    stored = {article["url"]: article for article in store.articles()}
    store.close()
    return LabelledRun(articles, stored, tuple(steps))


@pytest.mark.slow
def test_precision_and_recall_on_a_labelled_set(labelled, capsys):
    story = {article.url: article.story for article in labelled.articles}
    links = [(url, article["duplicate_of"]) for url, article in labelled.stored.items() if article["duplicate_of"]]
    right = sum(story[url] == story[original] for url, original in links)
    # every stored copy of a story but the first should be linked (identical texts are not stored at all)
    expected = sum(copies - 1 for copies in Counter(story[url] for url in labelled.stored).values())
    precision, recall = right / len(links), right / expected
    meetings = [article for article in labelled.articles
                if article.template is not None and article.url in labelled.stored]
    fingerprints = {article.url: Fingerprint.of(article.text) for article in meetings}
    close_misses = sum(1 for a, b in itertools.combinations(meetings, 2)
                       if a.template == b.template and a.story != b.story
                       and fingerprints[a.url].similarity(fingerprints[b.url]) >= DEFAULT_THRESHOLD)
    with capsys.disabled():
        print(f"\nnear-duplicates, labelled set: {len(labelled.articles)} articles, {len(labelled.stored)} stored, "
              f"{expected} copies to link, {close_misses} pairs of template meetings as similar as copies; "
              f"{len(links)} links made, {right} right: precision {precision:.4f}, recall {recall:.4f}")
    assert len(labelled.stored) >= 2000 and close_misses >= 100
    assert precision == 1.0 and recall >= 0.99


@pytest.mark.slow
def test_a_lookup_costs_the_same_with_twice_as_many_articles_stored(labelled):
    with_half, with_all = labelled.lookup_steps
    assert with_all <= with_half * 1.1


def test_upgrading_a_store_rebuilds_the_buckets_of_its_articles(tmp_path):
    """Buckets stored by an earlier MinHash scheme match no new text: migration 0007 computes them anew."""
    url = f"sqlite:///{tmp_path / 'articles.db'}"
    store = Store(url)
    store.save_article(SEED)
    store.close()
    engine = create_engine(url)
    command.downgrade(migrations._config(engine), "0007")  # the later revisions' tables gone, the buckets kept
    with engine.begin() as connection:
        connection.execute(text("UPDATE near_duplicate_bands SET bucket = 'earlier-' || band"))
        connection.execute(text("UPDATE alembic_version SET version_num = '0006'"))
    engine.dispose()
    assert Store.upgrade(url)
    store = Store(url, create=False)
    try:
        store.save_article(SEED_REPRINT)
        assert original_of(store, SEED_REPRINT.url) == SEED.url
    finally:
        store.close()


@pytest.mark.parametrize("text, first, last", [
    ("The party committee of the group held a meeting on safety production, 2,000 workers attended.",
     "5df2b37cdaf22132", "56b4ad3eaade38bf"),
    ("集团党委召开安全生产工作会议，2000名职工参加。", "c6af4af4b5cd446e", "878124951b5bd3ab"),
    ("Short text", "accb99709ae11f6a", "3dd1aef047513806"),  # fewer words than a shingle
])
def test_a_text_keeps_the_buckets_stored_articles_were_filed_under(text, first, last):
    # the values newscrawl has always computed: a change would hide every stored copy from new ones
    for keys in Fingerprint.of(text).band_keys(), band_keys(text):
        assert len(keys) == BANDS and keys[0] == (0, first) and keys[-1] == (BANDS - 1, last)


@pytest.mark.parametrize("text", ["", "!!", "Short text", "a b c d e", "a b c d e a b c d e a b c d e f",
                                  "会议强调会议强调会议强调", SEED.text])
def test_the_keys_of_a_text_are_those_of_its_shingle_set(text):
    assert band_keys(text) == Fingerprint.of(text).band_keys()  # repeated shingles change no minimum
