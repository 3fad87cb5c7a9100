"""newscrawl show URL|ID [--json]"""

from dataclasses import asdict, fields
from datetime import datetime

from crawler.commands.common import (CommandError, add_db_option, add_json_option, existing_store, print_json,
                                     print_table, shown_time)
from storage.reader import StoredArticle

HELP = "one stored article: its metadata, near-duplicates, crawl history and text"
# what the near-duplicates list tells of each copy
COPY_FIELDS = ("id", "published", "site", "title", "url")


def add_arguments(parser) -> None:
    parser.add_argument("article", metavar="URL|ID", help="the article's URL (any form of it) or its id")
    add_json_option(parser)
    add_db_option(parser)


def run(args) -> int:
    store = existing_store(args.db)
    article = stored_article(store, args.article)
    if article is None:
        raise CommandError(f"no article {args.article!r} in the store")
    copies = store.near_duplicates(article)
    history = store.fetch_history(article.id)
    if args.json:
        print_json({**asdict(article),
                    "near_duplicates": [{name: getattr(copy, name) for name in COPY_FIELDS} for copy in copies],
                    "history": [asdict(fetch) for fetch in history]})
        return 0
    print_table([(spec.name, _cell(getattr(article, spec.name))) for spec in fields(StoredArticle)
                 if spec.name != "text"], left=(0, 1))
    print(f"\nnear-duplicates: {len(copies) or 'none'}")
    if copies:
        print_table([COPY_FIELDS] + [tuple(_cell(getattr(copy, name)) for name in COPY_FIELDS) for copy in copies],
                    left=(2, 3, 4))
    print("\ncrawl history:")
    print_table([("fetched", "run", "spider", "outcome")]
                + [(_cell(f.fetched_at), _cell(f.run_id), _cell(f.spider), f.outcome) for f in history],
                left=(0, 2, 3))
    print(f"\ntext:\n{article.text}")
    return 0


def stored_article(store, key: str) -> StoredArticle | None:
    """The article with this id, or stored under this URL as the crawl knows it: any spelling of
    it (http or https, tracking parameters, index.html), or a URL that led to it (url_aliases)."""
    if key.isascii() and key.isdigit():  # not "²", a digit to isdigit() but not to int()
        return store.find_article(article_id=int(key))
    # imports urllib.request: 30 ms an article asked by id need not wait
    from crawler.urls import clean_url, default_tracking_patterns, spellings

    try:
        return store.article_known_as(spellings(clean_url(key, default_tracking_patterns())))
    except ValueError:  # no URL at all (http://[bad/)
        return None


def _cell(value) -> str:
    if value is None:
        return "-"
    return shown_time(value) if isinstance(value, datetime) else str(value)
