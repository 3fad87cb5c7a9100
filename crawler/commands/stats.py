"""newscrawl stats"""

from crawler.commands.common import add_db_option, existing_store, print_table

HELP = "articles per site and each site's last crawl"


def add_arguments(parser) -> None:
    add_db_option(parser)


def run(args) -> int:
    store = existing_store(args.db)
    rows = [("site", "articles", "latest", "last run", "outcome", "pages", "new", "updated", "errors")]
    for summary in store.site_summaries():
        run = summary.last_run
        rows.append((
            summary.site, summary.articles, summary.latest_published or "-",
            run.started_at.strftime("%Y-%m-%d %H:%M") if run else "-",
            run.status if run else "-",
            *((run.counts.pages, run.counts.articles_new, run.counts.articles_updated, run.counts.errors)
              if run else ("-",) * 4),
        ))
    print_table(rows)
    return 0
