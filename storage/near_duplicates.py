"""Near-duplicates: the same story stored under other URLs, found through an index.

Parent companies, regulators and aggregators reprint a story with other chrome,
a prefix on the title, an editor's line added or the last paragraph trimmed.
Every copy is stored (they are different pages); each joins a cluster whose
root, ``articles.duplicate_of`` of every other copy, is the earliest copy:
the one published first (undated copies count as the latest), then the one
stored first.

Similarity. A text is read as tokens: words, lowercased, punctuation dropped,
and in Chinese, which has no spaces, single characters. Its shingles are the
runs of SHINGLE_SIZE tokens. Two texts are as similar as the Jaccard index of
their shingle sets, |A ∩ B| / |A ∪ B|; copies are those at least as similar as
the threshold (DEFAULT_THRESHOLD unless the store is given another), or those of
which one contains the other: at least CONTAINMENT (or the threshold, if higher)
of the shorter's shingles are in the longer, |A ∩ B| / min(|A|, |B|). A reprint
that drops a long last paragraph keeps little more than a third of the
original's shingles (Jaccard 0.4) and almost all of its own (containment 0.9
and more).

Index. MinHash condenses a shingle set into NUM_PERM values, each the same for
two sets with a probability equal to their similarity s (shingles hashed with
CRC-32, the NUM_PERM hash functions applied to all of them at once with numpy). Banded
LSH cuts the values into BANDS bands of ROWS; an article is stored under one
bucket per band (table near_duplicate_bands) and two articles are candidates
when they share a bucket in any band, which happens with probability

    P(s) = 1 - (1 - s ** ROWS) ** BANDS          (the S-curve)

With 32 bands of 4 rows: P(0.1) = 0.003, P(0.3) = 0.23, P(0.4) = 0.56,
P(0.5) = 0.87, P(0.6) = 0.988, P(0.7) = 0.9996. A copy is found almost
surely from a similarity of 0.6 up (less surely down to 0.5); articles that
merely share the stock phrases of the trade (s around 0.05) almost never share
a bucket. Looking an article up thus takes 32 searches of the table's
primary-key index, whose cost does not grow with the number of articles
stored. (A flatter curve, 42 bands of 3 rows, finds more copies below 0.6
but also more unrelated candidates, and their number grows with the store's
size: lookups would cost more as it grows.) The bands do not depend on the
threshold, so changing it needs no re-indexing. Candidates, the
MAX_CANDIDATES sharing most buckets, are then checked on their stored text:
the exact similarity or containment, and the numbers.

Numbers. Two meetings of one committee written from one template share most
of their shingles too. Where they differ is where the template has blanks:
the date, the session number, the head count. A reprint never changes those
(it may drop them with a trimmed paragraph, or add some in an editor's line).
So a candidate whose text, aligned with the new one, has a short stretch where
both have numbers and the numbers differ tells of another event, not the same
story. (Template articles that differ in names only are not told apart.)
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache
from difflib import SequenceMatcher

from sqlalchemy import Connection, Row, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from storage.locks import lock_in_transaction
from storage.models import Article, NearDuplicateBand

SHINGLE_SIZE = 5  # tokens: 5 words in English, 5 characters in Chinese
NUM_PERM, BANDS, ROWS = 128, 32, 4
DEFAULT_THRESHOLD = 0.5  # Jaccard index
CONTAINMENT = 0.8  # share of the shorter text's shingles found in the longer
MAX_CANDIDATES = 20

Keys = list[tuple[int, str]] | tuple[tuple[int, str], ...]  # (band, bucket) of each band


@cache
def _minhash_parameters() -> tuple:
    """MinHash's NUM_PERM hash functions, h(x) = (a * x + b) mod 2**64 >> 32 with a odd (a
    2-independent family for 32-bit keys: multiply-shift), and the odd constant that folds a
    band's rows into one 64-bit bucket. Drawn from a fixed seed: they must never change, or the
    buckets of stored articles stop matching those of new ones. numpy is imported on first use:
    reading commands (stats, search, --help) do not need it."""
    import numpy as np

    a, b = np.random.default_rng(20261130).integers(0, 2**64, size=(2, NUM_PERM), dtype=np.uint64,
                                                    endpoint=False)
    return np, a | np.uint64(1), b, np.uint64(0x9E3779B97F4A7C15)


_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")
# 2,000 and 2000 are one number. The comma comes first in the pattern, so that the regex engine
# scans for commas rather than trying the look-behind at every character (a third of the time).
_THOUSANDS_SEPARATOR = re.compile(r"[,，](?<=\d[,，])(?=\d{3}(?!\d))")


def candidate_probability(similarity: float) -> float:
    """The S-curve: how likely two texts this similar share a bucket in some band."""
    return 1 - (1 - similarity**ROWS) ** BANDS


@dataclass(frozen=True)
class Fingerprint:
    """What near-duplicate detection reads of a text."""

    tokens: tuple[str, ...]
    shingles: frozenset[str]

    @classmethod
    def of(cls, text: str) -> Fingerprint:
        tokens = _tokens(text)
        return cls(tokens, frozenset(_shingles(tokens)))

    def band_keys(self) -> Keys:
        """(band, bucket) of each LSH band; none for a text without words."""
        return _band_keys(self.shingles, len(self.shingles))

    def similarity(self, other: Fingerprint) -> float:
        """Jaccard index of the two shingle sets."""
        union = len(self.shingles | other.shingles)
        return len(self.shingles & other.shingles) / union if union else 0.0

    def containment(self, other: Fingerprint) -> float:
        """The share of the smaller shingle set that is in the other (the overlap coefficient)."""
        smaller = min(len(self.shingles), len(other.shingles))
        return len(self.shingles & other.shingles) / smaller if smaller else 0.0

    def contradicts(self, other: Fingerprint) -> bool:
        """Whether the texts, aligned, have different numbers in a stretch no longer than a
        shingle between parts they share: a filled-in template, not a copy."""
        matcher = SequenceMatcher(None, self.tokens, other.tokens, autojunk=False)
        for tag, start, end, other_start, other_end in matcher.get_opcodes():
            if tag == "replace" and max(end - start, other_end - other_start) <= SHINGLE_SIZE:
                ours = _numbers(self.tokens[start:end])
                theirs = _numbers(other.tokens[other_start:other_end])
                if ours and theirs and ours != theirs:
                    return True
        return False


def band_keys(text: str) -> Keys:
    """Fingerprint.of(text).band_keys(), without the shingle set: MinHash takes each shingle's
    minimum, which a shingle seen twice does not change; the set would cost a tenth of the time."""
    tokens = _tokens(text)
    return _band_keys(_shingles(tokens), max(len(tokens) - SHINGLE_SIZE + 1, 1 if tokens else 0))


def _tokens(text: str) -> tuple[str, ...]:
    folded = _THOUSANDS_SEPARATOR.sub("", unicodedata.normalize("NFKC", text).casefold())
    return tuple(_TOKEN.findall(folded))


def _shingles(tokens: tuple[str, ...]) -> Iterable[str]:
    """Each run of SHINGLE_SIZE tokens, in order (repeated when the text repeats it)."""
    if len(tokens) < SHINGLE_SIZE:  # a text shorter than a shingle is one shingle
        return (" ".join(tokens),) if tokens else ()
    return map(" ".join, zip(*(tokens[start:] for start in range(SHINGLE_SIZE))))  # each token with the next ones


def _band_keys(shingles: Iterable[str], count: int) -> Keys:
    """(band, bucket) of each LSH band of the `count` shingles. Shingles are hashed with CRC-32,
    then every hash function applied to all of them at once."""
    if not count:
        return []
    np, multipliers, offsets, bucket_mix = _minhash_parameters()
    hashes = np.fromiter(map(zlib.crc32, map(str.encode, shingles)), dtype=np.uint64, count=count)
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the point
        values = np.multiply.outer(multipliers, hashes)  # one row per hash function, in place from here
        values += offsets[:, np.newaxis]
        # the shift keeps the order of values, so it is taken of the minima alone
        signature = (values.min(axis=1) >> np.uint64(32)).reshape(BANDS, ROWS)
        buckets = np.zeros(BANDS, dtype=np.uint64)
        for row in range(ROWS):
            buckets = buckets * bucket_mix + signature[:, row]
    return [(band, f"{bucket:016x}") for band, bucket in enumerate(buckets.tolist())]


def bucket_locks(keys: Keys) -> list[str]:
    """The names of the locks (storage/locks.py) a writer of a text with these band keys takes."""
    return [f"bucket:{band}:{bucket}" for band, bucket in keys]


class NearDuplicateIndex:
    """Keeps the LSH buckets and the clusters (duplicate_of) of stored articles."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD):
        if not 0 < threshold <= 1:
            raise ValueError(f"the near-duplicate threshold is a similarity in (0, 1], not {threshold}")
        self.threshold = threshold

    def add(self, session: Session, article, keys: Keys | None = None) -> bool:
        """Index a newly stored article (anything with its inserted row's id, text and published)
        and join it to the cluster of its earliest stored copy; when it is older than that
        cluster's root, it becomes the root.
        keys: its text's band keys, when already computed. True when it has copies."""
        keys = band_keys(article.text) if keys is None else keys
        # Any two texts that could be copies share a bucket: writers of such texts take turns, and the
        # later one sees the earlier (read committed), however their transactions overlap.
        lock_in_transaction(session.connection(), bucket_locks(keys))
        found = candidates(session, keys)
        if found:  # the full fingerprint is only needed to check candidates, which are rare
            fingerprint = Fingerprint.of(article.text)
            found = [candidate for candidate in found
                     if self._is_copy(fingerprint, Fingerprint.of(candidate.text))]
        if found:
            earliest = min(found, key=_age)
            self._join(session, article, earliest.duplicate_of or earliest.id)
        self._store(session, article.id, keys)
        return bool(found)

    def refresh(self, session: Session, article: Article, keys: Keys | None = None) -> None:
        """Re-index an article whose text changed; it stays in its cluster."""
        session.execute(delete(NearDuplicateBand).where(NearDuplicateBand.article_id == article.id))
        self._store(session, article.id, band_keys(article.text) if keys is None else keys)

    def _is_copy(self, fingerprint: Fingerprint, candidate: Fingerprint) -> bool:
        return ((fingerprint.similarity(candidate) >= self.threshold
                 or fingerprint.containment(candidate) >= max(self.threshold, CONTAINMENT))
                and not fingerprint.contradicts(candidate))

    @staticmethod
    def _join(session: Session, article: Article, root_id: int) -> None:
        root = session.execute(select(Article.id, Article.published).where(Article.id == root_id)).one()
        if _age(article) < _age(root):
            session.execute(
                update(Article)
                .where((Article.id == root_id) | (Article.duplicate_of == root_id))
                .values(duplicate_of=article.id)
            )
        else:
            session.execute(update(Article).where(Article.id == article.id).values(duplicate_of=root_id))

    @staticmethod
    def _store(session: Session, article_id: int, keys: Keys) -> None:
        if keys:  # a plain executemany: the ORM's bulk insert path costs more than the rows
            session.connection().execute(insert(NearDuplicateBand.__table__), [
                {"band": band, "bucket": bucket, "article_id": article_id} for band, bucket in keys])


def candidates(connection: Session | Connection, keys: Keys) -> list[Row]:
    """The stored articles (id, text, published, duplicate_of) that share most buckets with keys."""
    if not keys:
        return []
    return connection.execute(_candidates_statement(), {f"bucket{band}": bucket for band, bucket in keys}).all()


@cache  # built once, on first use: SQLAlchemy then reuses its compiled form
def _candidates_statement():
    """Articles sharing most buckets with the given ones (parameters bucket0, bucket1…).
    Written as an OR of (band, bucket) pairs, which SQLite answers with one search of the
    primary-key index per band; for `(band, bucket) IN (VALUES …)` it scans the table."""
    bands = NearDuplicateBand
    sharing = (
        select(bands.article_id)
        .where(or_(*(and_(bands.band == band, bands.bucket == bindparam(f"bucket{band}"))
                     for band in range(BANDS))))
        .group_by(bands.article_id)
        .order_by(func.count().desc(), bands.article_id)
        .limit(MAX_CANDIDATES)
        .subquery()
    )
    return (select(Article.id, Article.text, Article.published, Article.duplicate_of)
            .join(sharing, Article.id == sharing.c.article_id))


def _age(article) -> tuple:
    """Sorts copies earliest first: by publication date (undated last), then as stored."""
    return (article.published is None, article.published or date.min, article.id)


def _numbers(tokens: tuple[str, ...]) -> set[str]:
    return {token for token in tokens if any(character.isdigit() for character in token)}
