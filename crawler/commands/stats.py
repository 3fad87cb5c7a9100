"""newscrawl stats [--runs [N] | --check] [--json]"""

from dataclasses import asdict

from crawler.commands.common import (CommandError, add_db_option, add_json_option, existing_store,
                                     print_json, print_table, shown_time, table_key)
from storage.reader import RECENT_RUNS

HELP = "articles, stories and recent crawl health per site; --runs lists the latest crawl runs"
MESSAGE_WIDTH = 60  # a run's error or warning is cut to this in the table; --json has it whole
SITE_COLUMNS = ("site", "articles", "stories", "latest", "last outcome", "last success", "no body", "failed",
                "errors", "unextracted")
RUN_COLUMNS = ("id", "site", "started", "duration", "outcome", "pages", "new", "updated", "unchanged",
               "duplicates", "no body", "errors", "skipped", "not modified", "message")


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
    """The table's columns, and in --json under the same keys (headers with "_" for " ") plus
    errors_by_kind (over the same runs) and warnings (of the last run)."""
    summaries, totals = store.site_summaries(), store.totals()
    rows = []
    for summary in summaries:
        recent, last = summary.recent_runs, summary.last_run
        rows.append((summary.site, summary.articles, summary.clusters, summary.latest_published,
                     last.status if last else None,
                     shown_time(summary.last_success.started_at, as_json=as_json) if summary.last_success else None,
                     *((recent.empty_pages, recent.failed, recent.errors) if recent.runs else (None,) * 3),
                     summary.failed_pages))
    if as_json:
        print_json({"sites": [{**dict(zip(map(table_key, SITE_COLUMNS), row)),
                               "errors_by_kind": summary.recent_runs.errors_by_kind,
                               "warnings": list(summary.last_run.warnings) if summary.last_run else []}
                              for row, summary in zip(rows, summaries)],
                    "total": {"articles": totals.articles, "stories": totals.clusters},
                    "recent_runs_window": RECENT_RUNS})
        return
    shown = [tuple("-" if cell is None else cell for cell in row[:5]) + (row[5] or "never",)
             + tuple("-" if cell is None else cell for cell in row[6:]) for row in rows]
    print_table([SITE_COLUMNS, *shown, ("total", totals.articles, totals.clusters, "", "", "", "", "", "", "")],
                left=(0, 4))
    for summary in summaries:
        if summary.recent_runs.errors_by_kind:
            print(f"{summary.site} errors: {_kinds(summary.recent_runs.errors_by_kind)}")
        for warning in summary.last_run.warnings if summary.last_run else ():
            print(f"{summary.site} warning: {warning}")
    print(f"no body, failed, errors: over each site's last {RECENT_RUNS} crawl runs (failed: those that did "
          "not finish); `newscrawl stats --runs` lists them")
    if any(summary.failed_pages for summary in summaries):
        print("unextracted: pages extraction failed on, kept; `newscrawl re-extract SITE` retries them")


def check(store, as_json: bool) -> int:
    """Exit status 1 when a site has a problem (crawler/health.py), 0 (and no output) otherwise."""
    from crawler import health  # imports statistics: a few ms the table need not wait

    problems = health.problems(store.runs_by_site(health.RUNS_READ))
    if as_json:
        print_json([asdict(problem) for problem in problems])
    else:
        for problem in problems:
            print(problem.message)
    return 1 if problems else 0


def show_runs(runs, as_json: bool) -> None:
    """The table's columns, and in --json under the same keys plus the run's end, its whole error,
    warnings, errors by kind, and the host and process that ran it."""
    rows = []
    for run in runs:
        c = run.counts
        message = run.error or (f"warning: {run.warnings[0]}" if run.warnings else None)
        duration = run.duration.total_seconds() if run.duration else None
        rows.append((run.id, run.spider, shown_time(run.started_at, as_json=as_json),
                     duration if as_json else _duration(run), run.status,
                     c.pages, c.articles_new, c.articles_updated, c.articles_unchanged, c.duplicates,
                     c.empty_pages, c.errors, c.articles_skipped, c.not_modified,
                     message if as_json else _shorten(message or "")))
    if as_json:
        print_json([{**dict(zip(map(table_key, RUN_COLUMNS), row)),
                     "finished": shown_time(run.finished_at, as_json=True), "error": run.error,
                     "warnings": list(run.warnings), "errors_by_kind": run.errors_by_kind,
                     "host": run.host, "pid": run.pid} for row, run in zip(rows, runs)])
        return
    print_table([RUN_COLUMNS, *rows], left=(1, 2, 4, 14))
    for run in runs:
        if run.errors_by_kind:
            print(f"run {run.id} errors: {_kinds(run.errors_by_kind)}")


def _kinds(errors_by_kind: dict[str, int]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in errors_by_kind.items())


def _duration(run) -> str:
    return str(run.duration).split(".")[0] if run.duration else "-"  # whole seconds


def _shorten(message: str) -> str:
    line = message.strip().split("\n")[0]
    return line if len(line) <= MESSAGE_WIDTH else line[:MESSAGE_WIDTH - 1] + "…"
