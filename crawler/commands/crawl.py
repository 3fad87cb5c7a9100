"""newscrawl crawl [SITE ...] [--replay [DIR]]"""

from pathlib import Path

from crawler import runner
from crawler.commands.common import (add_db_option, add_settings_option, known_sites, print_table,
                                     setting_overrides)
from crawler.recordings import load_recordings
from storage import Store

HELP = "crawl sites (all when none is named) into the store"


def add_arguments(parser) -> None:
    parser.add_argument("sites", nargs="*", metavar="SITE", help="spider names, see `newscrawl sites`")
    parser.add_argument("--replay", nargs="?", const=str(runner.FIXTURES), metavar="DIR",
                        help="serve responses from recordings instead of the network "
                             "(default DIR: the bundled fixtures)")
    add_db_option(parser)
    add_settings_option(parser)


def run(args) -> int:
    settings = runner.project_settings(args.db, setting_overrides(args.set))
    sites = known_sites(args.sites, settings)
    if args.replay:
        folder = Path(args.replay)
        load_recordings(folder)  # fails early, in one line, on a missing folder or a bad manifest
        runner.use_replay(settings, folder)
    Store(settings["NEWSCRAWL_DB"]).close()  # an unusable store is reported before crawling
    results = runner.run_crawls(sites, settings)
    print_summary(results, Store(settings["NEWSCRAWL_DB"], create=False))
    return 0 if all(result.outcome == "finished" for result in results) else 1


def print_summary(results, store: Store) -> None:
    stored = {summary.site: summary.articles for summary in store.site_summaries()}
    rows = [("site", "outcome", "pages", "new", "updated", "unchanged", "duplicates", "no body", "errors", "stored")]
    for result in results:
        c = result.counts
        rows.append((result.site, result.outcome, c.pages, c.articles_new, c.articles_updated,
                     c.articles_unchanged, c.duplicates, c.empty_pages, c.errors, stored.get(result.site, 0)))
    print_table(rows)
