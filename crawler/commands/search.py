"""newscrawl search QUERY [--site SITE] [--since DATE] [--until DATE] [--language CODE] [--limit N] [--json]"""

import sys
from dataclasses import asdict

from crawler.commands.common import (CommandError, add_db_option, add_json_option, add_until_option,
                                     check_stored_languages, check_stored_sites, date_range, existing_store, print_json)

HELP = "full-text search over the stored titles and texts, best matches first"
QUERY_HELP = ('SQLite FTS5 syntax (also on PostgreSQL): words (all must occur), "a phrase", prefix*, OR, NOT, '
              "title:word; quote words that hold - or :")
# Bold in a terminal; brackets where escape codes would be junk (a pipe, a file, JSON).
TERMINAL_MARKS = ("\033[1m", "\033[0m")
PLAIN_MARKS = ("[", "]")


def add_arguments(parser) -> None:
    parser.add_argument("query", metavar="QUERY", help=QUERY_HELP)
    parser.add_argument("--site", help="only this site's articles")
    parser.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (YYYY-MM-DD)")
    add_until_option(parser, "articles published")
    parser.add_argument("--language", metavar="CODE",
                        help="only articles in this language (ISO 639-1 code as stored: en, zh)")
    parser.add_argument("--limit", type=int, default=20, metavar="N", help="at most N results (default: 20)")
    add_json_option(parser)
    add_db_option(parser)


def run(args) -> int:
    if args.limit < 1:
        raise CommandError(f"--limit takes a positive number, not {args.limit}")
    since, until = date_range(args)
    store = existing_store(args.db)
    check_stored_sites(store, [args.site] if args.site else [])
    check_stored_languages(store, [args.language] if args.language else [])
    marks = TERMINAL_MARKS if sys.stdout.isatty() and not args.json else PLAIN_MARKS
    hits = store.search(args.query, site=args.site, since=since, until=until, language=args.language,
                        limit=args.limit, marks=marks)
    if args.json:
        print_json([{"rank": rank, **asdict(hit)} for rank, hit in enumerate(hits, 1)])
    elif hits:
        print_hits(hits)
    else:
        print(f"no article matches {args.query!r}")
    return 0


def print_hits(hits) -> None:
    """One block per article: rank, date, site and title; the snippet; the URL."""
    for rank, hit in enumerate(hits, 1):
        print(f"{rank:>3}. {hit.published or 'undated'}  {hit.site}  {hit.title}")
        print(f"     {' '.join(hit.snippet.split())}")  # the snippet's paragraphs on one line
        print(f"     {hit.url}\n")
