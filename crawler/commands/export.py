"""newscrawl export [--format jsonl|csv|parquet] [-o FILE] [--site S ...] [--since DATE] [--until DATE]
                 [--language L ...] [--unique]"""

import csv
import json
import sys
from contextlib import nullcontext
from datetime import date
from itertools import islice

from crawler.commands.common import (CommandError, add_db_option, add_until_option, check_not_the_store,
                                     check_stored_languages, check_stored_sites, date_range, existing_store)

HELP = "write the stored articles as JSON Lines, CSV or Parquet"
FIELDS = ["url", "site", "title", "published", "author", "source", "language",
          "text", "content_hash", "first_seen", "last_seen", "duplicate_of"]
PARQUET_BATCH = 1000  # articles per Parquet row group: memory stays flat whatever the store's size


def add_arguments(parser) -> None:
    parser.add_argument("--format", choices=["jsonl", "csv", "parquet"], default="jsonl",
                        help="jsonl (default), csv, or parquet (needs the `parquet` extra and -o)")
    parser.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output)")
    parser.add_argument("--site", action="append", default=[], metavar="SITE",
                        help="only this site's articles (repeatable)")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    add_until_option(parser, "articles published")
    parser.add_argument("--language", action="append", default=[], metavar="CODE",
                        help="only articles in this language (ISO 639-1 code as stored: en, zh; repeatable)")
    parser.add_argument("--unique", action="store_true",
                        help="one article per story: leave out reprints of an article stored earlier")
    add_db_option(parser)


def run(args) -> int:
    since, until = date_range(args)
    if args.output:
        check_not_the_store(args.output, args.db, "-o")
    if args.format == "parquet":
        if not args.output:
            raise CommandError("--format parquet writes a file: add -o FILE")
        _pyarrow()  # a missing extra is reported before anything is read or written
    store = existing_store(args.db)
    check_stored_sites(store, args.site)
    check_stored_languages(store, args.language)
    articles = store.articles(*args.site, since=since, until=until, languages=args.language, unique=args.unique)
    with _open(args.output, binary=args.format == "parquet") as stream:
        WRITERS[args.format](articles, stream)
    return 0


def write_jsonl(articles, stream) -> None:
    for article in articles:
        stream.write(json.dumps(article, ensure_ascii=False, default=_iso) + "\n")


def write_csv(articles, stream) -> None:
    writer = csv.DictWriter(stream, fieldnames=FIELDS)
    writer.writeheader()
    for article in articles:
        writer.writerow({name: _iso(value) if isinstance(value, date) else value
                         for name, value in article.items()})


def write_parquet(articles, stream, batch_size: int = PARQUET_BATCH) -> None:
    """Typed columns (dates, timestamps) for pandas, polars or DuckDB, written a batch at a time."""
    pa, parquet = _pyarrow()
    moments = {"published": pa.date32(), "first_seen": pa.timestamp("us"), "last_seen": pa.timestamp("us")}
    schema = pa.schema([(name, moments.get(name, pa.string())) for name in FIELDS])
    with parquet.ParquetWriter(stream, schema, compression="zstd") as writer:
        while batch := list(islice(articles, batch_size)):
            writer.write_batch(pa.RecordBatch.from_pylist(batch, schema=schema))


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "parquet": write_parquet}


def _pyarrow():
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise CommandError("--format parquet needs pyarrow: pip install 'newscrawl[parquet]'") from None
    return pyarrow, pyarrow.parquet


def _open(path: str | None, binary: bool):
    if not path:
        return nullcontext(sys.stdout)
    try:
        return open(path, "wb") if binary else open(path, "w", encoding="utf-8", newline="")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from None


def _iso(value: date) -> str:
    return value.isoformat()
