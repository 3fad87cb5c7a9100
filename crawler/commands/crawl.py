"""newscrawl crawl [SITE ...] [--replay [DIR]] [--refresh] [--full] [--since DATE] [--frontier REDIS_URL]
                [--sites-file PATH] [generic --start-url URL --article-pattern REGEX ...]"""

from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit

from crawler import frontier, runner
from crawler.commands.common import (CommandError, add_db_option, add_json_option, add_settings_option,
                                     add_sites_file_option, known_sites, parse_date, print_json, print_table,
                                     setting_overrides, use_sites_file)
from crawler.recordings import load_recordings
from crawler.sites import GENERIC
from spiders.generic import GenericSpider
from storage import Store

HELP = "crawl sites (all when none is named) into the store"


def add_arguments(parser) -> None:
    parser.add_argument("sites", nargs="*", metavar="SITE",
                        help=f"site names, see `newscrawl sites`; {GENERIC}: the site the options below describe")
    parser.add_argument("--replay", nargs="?", const=str(runner.FIXTURES), metavar="DIR",
                        help="serve responses from recordings instead of the network "
                             "(default DIR: the bundled fixtures)")
    parser.add_argument("--refresh", action="store_true",
                        help="fetch stored articles again too, and update those that changed")
    parser.add_argument("--full", action="store_true",
                        help="walk every list page, not only up to the first with nothing new")
    parser.add_argument("--since", metavar="DATE",
                        help="skip articles the site's list dates before DATE (YYYY-MM-DD)")
    parser.add_argument("--frontier", metavar="REDIS_URL",
                        help="crawl one site with workers on several machines sharing its queue in Redis, "
                             "e.g. redis://host:6379/0: run the same command on each (needs a PostgreSQL store "
                             "for workers on several machines)")
    add_db_option(parser)
    add_settings_option(parser)
    add_sites_file_option(parser)
    add_json_option(parser)
    generic = parser.add_argument_group(
        f"a site without a spider module, crawled as `{GENERIC}` and stored under its start URL's host")
    generic.add_argument("--start-url", metavar="URL", help="the first page of its news list")
    generic.add_argument("--article-pattern", metavar="REGEX", help="regex the URLs of its articles match")
    generic.add_argument("--page-pattern", metavar="REGEX", help="regex the URLs of its further list pages match")
    generic.add_argument("--allowed-domain", metavar="DOMAIN",
                         help="the domain it stays in (default: the start URL's host)")


def run(args) -> int:
    settings = runner.project_settings(args.db, setting_overrides(args.set))
    use_sites_file(settings, args.sites_file)
    sites = sites_to_crawl(args, settings)
    runner.use_incremental(settings, refresh=args.refresh, full=args.full,
                           since=parse_date(args.since, "--since") if args.since else None)
    if args.replay:
        folder = Path(args.replay)
        load_recordings(folder)  # fails early, in one line, on a missing folder or a bad manifest
        runner.use_replay(settings, folder)
    try:  # an unusable store or threshold is reported before crawling
        Store(settings["NEWSCRAWL_DB"],
              near_duplicate_threshold=settings.getfloat("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD")).close()
    except ValueError:
        raise CommandError("NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD is a similarity in (0, 1], not "
                           f"{settings['NEWSCRAWL_NEAR_DUPLICATE_THRESHOLD']!r}") from None
    if args.frontier:
        join_frontier(args.frontier, sites, settings)
    results = runner.run_crawls(sites, settings)
    print_summary(results, Store(settings["NEWSCRAWL_DB"], create=False), as_json=args.json)
    return 0 if all(result.outcome == "finished" for result in results) else 1


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
    described = (args.start_url, args.article_pattern, args.page_pattern, args.allowed_domain)
    if GENERIC not in args.sites:
        if any(option is not None for option in described):
            raise CommandError(f"--start-url and the other pattern options describe the site {GENERIC!r}: name it")
        return known_sites(named, settings)
    if not args.start_url or not args.article_pattern:
        raise CommandError(f"crawling {GENERIC} needs --start-url URL and --article-pattern REGEX")
    try:
        spider = GenericSpider.for_site(urlsplit(args.start_url).hostname or args.start_url, [args.start_url],
                                        args.article_pattern, args.page_pattern or "",
                                        [args.allowed_domain] if args.allowed_domain else None)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return (known_sites(named, settings) if named else []) + [spider]


def print_summary(results, store: Store, as_json: bool = False) -> None:
    stored = {summary.site: summary.articles for summary in store.site_summaries()}
    if as_json:
        print_json([{"site": result.site, "outcome": result.outcome, **asdict(result.counts),
                     "stored": stored.get(result.site, 0)} for result in results])
        return
    rows = [("site", "outcome", "pages", "new", "updated", "unchanged", "duplicates", "no body", "errors", "stored",
             "skipped", "304")]
    for result in results:
        c = result.counts
        rows.append((result.site, result.outcome, c.pages, c.articles_new, c.articles_updated,
                     c.articles_unchanged, c.duplicates, c.empty_pages, c.errors, stored.get(result.site, 0),
                     c.articles_skipped, c.not_modified))
    print_table(rows)
