"""newscrawl crawl [SITE ...] [--replay [DIR|WARC]] [--warc FILE] [--refresh] [--full] [--since DATE] [--until DATE]
                [--max-articles N] [--max-pages N] [--max-list-pages N] [--max-depth N] [--frontier REDIS_URL]
                [--sites-file PATH] [generic --start-url URL --article-pattern REGEX ... | --feed URL | --sitemap URL]"""

import argparse
from pathlib import Path

from crawler import frontier, runner
from crawler.commands.common import (CommandError, add_db_option, add_generic_site_options, add_json_option,
                                     add_settings_option, add_sites_file_option, check_not_the_store,
                                     crawl_exit_code, date_range,
                                     describes_generic_site, generic_spider, known_sites, print_json, print_table,
                                     report_outcomes, scrapy_log_settings, setting_overrides, table_key,
                                     use_sites_file)
from crawler.extraction_pool import worker_count
from crawler.recordings import load_replay
from crawler.sites import GENERIC
from storage import Store, StoreError

HELP = "crawl sites (all when none is named) into the store"
LOGS_THROUGH_SCRAPY = True


def add_arguments(parser) -> None:
    parser.add_argument("sites", nargs="*", metavar="SITE",
                        help=f"site names, see `newscrawl sites`; {GENERIC}: the site the options below describe")
    parser.add_argument("--replay", nargs="?", const=str(runner.FIXTURES), metavar="DIR|WARC",
                        help="serve responses from recordings (a folder) or a WARC file instead of the network "
                             "(default: the bundled fixtures)")
    parser.add_argument("--warc", metavar="FILE",
                        help="append every response fetched, with its request, to FILE as WARC records "
                             "(gzipped per record; name it .warc.gz)")
    parser.add_argument("--refresh", action="store_true",
                        help="fetch stored articles again too, and update those that changed")
    parser.add_argument("--full", action="store_true",
                        help="walk every list page, not only up to the first with nothing new")
    parser.add_argument("--since", metavar="DATE",
                        help="skip articles the site's list dates before DATE (YYYY-MM-DD)")
    parser.add_argument("--until", metavar="DATE",
                        help="skip articles the site's list dates after DATE (YYYY-MM-DD)")
    parser.add_argument("--max-articles", type=int, metavar="N",
                        help="end each site's crawl, as finished, after N articles with text "
                             "(new, updated, unchanged or duplicate); requests under way still complete")
    caps = parser.add_argument_group("caps per run, so that a trap (an endless calendar or pager) ends")
    caps.add_argument("--max-pages", type=_count, metavar="N",
                      help="stop the crawl after N pages (Scrapy's CLOSESPIDER_PAGECOUNT; default: no cap)")
    caps.add_argument("--max-list-pages", type=_count, metavar="N",
                      help="follow at most N list pages (NEWSCRAWL_MAX_LIST_PAGES, default 2000)")
    caps.add_argument("--max-depth", type=_count, metavar="N",
                      help="follow links at most N steps from the start page (Scrapy's DEPTH_LIMIT; default: no cap)")
    parser.add_argument("--frontier", metavar="REDIS_URL",
                        help="crawl one site with workers on several machines sharing its queue in Redis, "
                             "e.g. redis://host:6379/0: run the same command on each (needs a PostgreSQL store "
                             "for workers on several machines)")
    add_db_option(parser)
    add_settings_option(parser)
    add_sites_file_option(parser)
    add_json_option(parser)
    add_generic_site_options(parser)


def _count(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"takes a whole number of at least 1, not {value!r}")
    return int(value)


def run(args) -> int:
    settings = runner.project_settings(args.db, {**scrapy_log_settings(args), **setting_overrides(args.set)})
    for setting, cap in (("CLOSESPIDER_PAGECOUNT", args.max_pages), ("NEWSCRAWL_MAX_LIST_PAGES", args.max_list_pages),
                         ("DEPTH_LIMIT", args.max_depth)):
        if cap is not None:
            settings.set(setting, cap, priority="cmdline")
    use_sites_file(settings, args.sites_file)
    sites = sites_to_crawl(args, settings)
    since, until = date_range(args)
    runner.use_incremental(settings, refresh=args.refresh, full=args.full, since=since, until=until)
    if args.max_articles is not None:
        if args.max_articles < 1:
            raise CommandError(f"--max-articles takes a number of articles, 1 or more, not {args.max_articles}")
        runner.use_article_limit(settings, args.max_articles)
    if args.replay:
        folder = Path(args.replay)
        load_replay(folder)  # fails early, in one line, on a missing folder, a bad manifest or WARC file
        runner.use_replay(settings, folder)
    if args.warc:
        check_not_the_store(args.warc, settings["NEWSCRAWL_DB"], "--warc")
        runner.use_warc(settings, writable_file(args.warc))
    if settings.getfloat("NEWSCRAWL_WRITE_BATCH_SECONDS") <= 0:  # the writer's timer would spin, or not start
        raise CommandError("NEWSCRAWL_WRITE_BATCH_SECONDS is a number of seconds above 0, not "
                           f"{settings['NEWSCRAWL_WRITE_BATCH_SECONDS']!r}")
    if settings.get("JOBDIR"):  # Scrapy's record of the requests seen outlives the crawl: its pages are never fetched again
        raise CommandError("-s JOBDIR is not supported: a crawl after an interrupted one walks every list page again, "
                           "and a job folder's record of the pages seen would keep later crawls from fetching them")
    try:  # an unusable store or threshold is reported before crawling
        store = Store(settings["NEWSCRAWL_DB"],
                      near_duplicate_threshold=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD"))
    except ValueError:
        raise CommandError("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD is a similarity in (0, 1], not "
                           f"{settings['NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD']!r}") from None
    try:
        worker_count(settings.get("NEWSCRAWL_EXTRACT_WORKERS"))
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    try:
        store.check_writable()  # a read-only or damaged store is refused before anything is fetched
    finally:
        store.close()
    if args.frontier:
        join_frontier(args.frontier, sites, settings)
    results = runner.run_crawls(sites, settings, progress=not args.quiet)
    try:
        stored = stored_by_site(settings["NEWSCRAWL_DB"])
    except StoreError:
        if not any(result.store_error for result in results):
            raise
        stored = None  # the store is what failed the crawl: the summary shows what the crawls counted
    print_summary(results, stored, as_json=args.json)
    report_outcomes(results)
    return crawl_exit_code(results)


def writable_file(path: str) -> Path:
    """A file the crawl can append to, checked before crawling (it is not emptied)."""
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise CommandError(f"cannot write to {path}: {exc.strerror}") from None
    return Path(path)


def join_frontier(redis_url: str, sites: list, settings) -> None:
    """Make this crawl a worker of the shared crawl of its one site (crawler/frontier.py)."""
    if len(sites) != 1 or not isinstance(sites[0], str):
        raise CommandError("--frontier crawls one site with a spider module: name exactly one")
    try:
        frontier.use_frontier(settings, frontier.join(redis_url, sites[0], settings["NEWSCRAWL_DB"]))
    except frontier.FrontierError as exc:
        raise CommandError(str(exc)) from None


def sites_to_crawl(args, settings) -> list:
    """The named sites (all when none is named), `generic` being the spider the options describe."""
    named = [site for site in args.sites if site != GENERIC]
    if GENERIC not in args.sites:
        if describes_generic_site(args):
            raise CommandError(f"--start-url and the other pattern options describe the site {GENERIC!r}: name it")
        return known_sites(named, settings)
    spider = generic_spider(args)
    return (known_sites(named, settings) if named else []) + [spider]


SUMMARY_COLUMNS = ("site", "outcome", "pages", "new", "updated", "unchanged", "duplicates", "no body", "errors",
                   "stored", "skipped", "not modified")


def stored_by_site(db_url: str) -> dict[str, int]:
    """{site: articles in the store}; StoreError when the store cannot be read."""
    store = Store(db_url, create=False)
    try:
        return {summary.site: summary.articles for summary in store.site_summaries()}
    finally:
        store.close()


def print_summary(results, stored: dict[str, int] | None, as_json: bool = False) -> None:
    """One row per crawl; --json gives the same columns (keys: the headers, "_" for " ") and also
    each crawl's error, warnings and errors by kind. Below the table: the errors by kind. stored
    is None when the store could not be read: "-" (null in --json)."""
    rows = []
    for result in results:
        c = result.counts
        in_store = stored.get(result.site, 0) if stored is not None else None
        rows.append((result.site, result.outcome.status, c.pages, c.articles_new, c.articles_updated,
                     c.articles_unchanged, c.duplicates, c.empty_pages, c.errors,
                     in_store if as_json or in_store is not None else "-", c.articles_skipped, c.not_modified))
    if as_json:
        print_json([{**dict(zip(map(table_key, SUMMARY_COLUMNS), row)), "error": result.outcome.error,
                     "warnings": list(result.outcome.warnings), "errors_by_kind": result.errors_by_kind}
                    for row, result in zip(rows, results)])
        return
    print_table([SUMMARY_COLUMNS, *rows])
    for result in results:
        if result.errors_by_kind:
            print(f"{result.site} errors: " + ", ".join(f"{kind} {count}"
                                                        for kind, count in result.errors_by_kind.items()))
