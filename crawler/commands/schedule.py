"""newscrawl schedule [--file FILE] [--once]"""

import logging
import signal
from pathlib import Path

from crawler import runner
from crawler.commands.common import CommandError, add_db_option, log_level, use_sites_file
from crawler.schedule import Scheduler, ScheduleError, load_schedule, log
from storage import Store

HELP = "run crawls when the schedule file says they are due"


def add_arguments(parser) -> None:
    parser.add_argument("--file", default="schedule.toml", type=Path, metavar="FILE",
                        help="the schedule (default: schedule.toml)")
    parser.add_argument("--once", action="store_true",
                        help="start what is due now, wait for it and exit (for cron or a systemd timer)")
    add_db_option(parser)
    parser.epilog = "--db is the store of the jobs that do not name their own db."


def run(args) -> int:
    try:
        schedule = load_schedule(args.file, crawl_site_names, runner.project_settings(args.db)["NEWSCRAWL_DB"])
        scheduler = Scheduler(schedule)  # its lock folder checked
    except ScheduleError as exc:
        raise CommandError(str(exc)) from None
    for db in {job.db for job in schedule.jobs}:
        # opened (created when new) before any crawl: a bad store is reported at once,
        # and crawls starting side by side never race to create the same one
        Store(db).close()
    _log_to(args)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda _signum, _frame: scheduler.stop())
    failures = scheduler.run(once=args.once)
    return 1 if failures and not scheduler.stopped else 0


def crawl_site_names(crawl_options) -> list[str]:
    """The sites `newscrawl crawl` knows with these options: spiders and the entries of its sites file."""
    settings = runner.project_settings()
    try:
        use_sites_file(settings, crawl_options.sites_file)
    except CommandError as exc:
        raise ScheduleError(str(exc)) from None
    return runner.site_names(settings)


def _log_to(args) -> None:
    """The scheduler's own lines (each start and end: INFO) on stderr, or in --log-file."""
    handler = logging.FileHandler(args.log_file, encoding="utf-8") if args.log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S %Z"))  # the zone, as stats shows it
    log.addHandler(handler)
    log.setLevel(log_level(args, default=logging.INFO))
    log.propagate = False  # not a second time through the command's root handler
