"""newscrawl stats [--runs [N] | --check] [--json]"""

from dataclasses import asdict

from crawler import health
from crawler.commands.common import (CommandError, add_db_option, add_json_option, existing_store,
                                     print_json, print_table)
from storage.store import RECENT_RUNS

HELP = "articles, stories and recent crawl health per site; --runs lists the latest crawl runs"
ERROR_WIDTH = 60  # a run's error message is cut to this in the table; --json has it whole


def add_arguments(parser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--runs", nargs="?", type=int, const=20, metavar="N",
                      help="list the N latest crawl runs instead (default N: 20)")
    mode.add_argument("--check", action="store_true",
                      help="print one line per site whose last crawl failed or yielded far below its recent "
                           "median (articles found, no-body share, errors), and exit 1 if there is any")
    add_json_option(parser)
    add_db_option(parser)


def run(args) -> int:
    store = existing_store(args.db)
    if args.check:
        return check(store, args.json)
    if args.runs is None:
        show_sites(store, args.json)
    elif args.runs < 1:
        raise CommandError(f"--runs takes a number of runs, 1 or more, not {args.runs}")
    else:
        show_runs(store.recent_runs(args.runs), args.json)
    return 0


def show_sites(store, as_json: bool) -> None:
    summaries, totals = store.site_summaries(), store.totals()
    if as_json:
        print_json({"sites": [asdict(summary) for summary in summaries], "total": asdict(totals),
                    "recent_runs_window": RECENT_RUNS})
        return
    rows = [("site", "articles", "stories", "latest", "last success", "no body", "failed", "errors")]
    for summary in summaries:
        recent = summary.recent_runs
        rows.append((summary.site, summary.articles, summary.clusters, summary.latest_published or "-",
                     _time(summary.last_success.started_at) if summary.last_success else "never",
                     *((recent.empty_pages, recent.failed, recent.errors) if recent.runs else ("-",) * 3)))
    rows.append(("total", totals.articles, totals.clusters, "", "", "", "", ""))
    print_table(rows)
    print(f"no body, failed, errors: over each site's last {RECENT_RUNS} crawl runs; "
          "`newscrawl stats --runs` lists them")


def check(store, as_json: bool) -> int:
    """Exit status 1 when a site has a problem (crawler/health.py), 0 (and no output) otherwise."""
    problems = health.problems(store.runs_by_site(health.RUNS_READ))
    if as_json:
        print_json([asdict(problem) for problem in problems])
    else:
        for problem in problems:
            print(problem.message)
    return 1 if problems else 0


def show_runs(runs, as_json: bool) -> None:
    if as_json:
        print_json([asdict(run) for run in runs])
        return
    rows = [("id", "spider", "started", "duration", "status", "pages", "new", "updated", "unchanged",
             "duplicates", "no body", "errors", "skipped", "304", "error")]
    for run in runs:
        c = run.counts
        rows.append((run.id, run.spider, _time(run.started_at), _duration(run), run.status,
                     c.pages, c.articles_new, c.articles_updated, c.articles_unchanged, c.duplicates,
                     c.empty_pages, c.errors, c.articles_skipped, c.not_modified, _shorten(run.error or "")))
    print_table(rows, left=(1, 2, 4, 14))


def _time(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _duration(run) -> str:
    return str(run.duration).split(".")[0] if run.duration else "-"  # whole seconds


def _shorten(message: str) -> str:
    line = message.strip().split("\n")[0]
    return line if len(line) <= ERROR_WIDTH else line[:ERROR_WIDTH - 1] + "…"
