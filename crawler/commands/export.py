"""newscrawl export [--format jsonl|csv] [-o FILE]"""

import csv
import json
import sys
from contextlib import nullcontext

from crawler.commands.common import CommandError, add_db_option, existing_store

HELP = "write the stored articles as JSON Lines or CSV"
FIELDS = ["url", "site", "title", "published", "author", "source", "language",
          "text", "content_hash", "first_seen", "last_seen"]


def add_arguments(parser) -> None:
    parser.add_argument("--format", choices=["jsonl", "csv"], default="jsonl")
    parser.add_argument("-o", "--output", metavar="FILE", help="output file (default: standard output)")
    add_db_option(parser)


def run(args) -> int:
    store = existing_store(args.db)
    try:
        output = open(args.output, "w", encoding="utf-8", newline="") if args.output else nullcontext(sys.stdout)
    except OSError as exc:
        raise CommandError(f"cannot write {args.output}: {exc.strerror}") from None
    with output as stream:
        if args.format == "jsonl":
            for article in store.articles():
                stream.write(json.dumps(article, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(stream, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(store.articles())
    return 0
