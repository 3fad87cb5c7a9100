"""Scheduled crawls: the schedule file, when each job is due, and running the due crawls.

A job is a group of sites with a cron expression, an optional jitter and options
of `newscrawl crawl`. Each due crawl runs as a `newscrawl crawl` process of its
own (a Scrapy reactor runs once per process) holding a lock per site, so that a
site is never crawled twice at a time, not even by two schedulers (crawler/locks.py:
in the database of a PostgreSQL store, so not even by schedulers on two machines).

Which due time each job was last started for is kept in a small JSON file beside
the locks rather than read back from crawl_runs: it is a scheduling decision, taken
(under a lock, so that two schedulers never both take it) before the crawl starts,
also when the crawl is then refused because its site is busy, and a crawl_runs row
says neither which due time it served nor that a due time was skipped.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from croniter import CroniterError, croniter

from crawler.commands import crawl
from crawler.commands.common import shown_time
from crawler.locks import DatabaseLock, LockFile, site_lock
from storage import Store, StoreError

log = logging.getLogger("newscrawl.schedule")

DEFAULT_LOCK_DIR = "data/locks"
FILE_KEYS = ("jobs", "lock_dir")
SCHEDULE_KEYS = ("sites", "cron", "jitter")  # a job's other keys are options of `newscrawl crawl`
MAX_PAUSE = 60.0  # the wall clock is read again at least this often: it may be set, or jump after a suspend
CRAWL_POLL = 1.0  # how soon the end of a running crawl is noticed


class ScheduleError(Exception):
    """The schedule file cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Job:
    name: str
    sites: tuple[str, ...]
    cron: str
    jitter: timedelta
    options: tuple[str, ...]  # `newscrawl crawl` options, --db included
    db: str  # where its crawls are recorded

    def crawl_arguments(self, sites: list[str]) -> list[str]:
        return ["crawl", *sites, *self.options]


@dataclass(frozen=True)
class Schedule:
    jobs: tuple[Job, ...]
    lock_dir: Path


def load_schedule(path: Path, site_names: Callable[[argparse.Namespace], list[str]], default_db: str) -> Schedule:
    """The schedule in a TOML file, every key checked. site_names gives the sites a crawl with
    the given (parsed) crawl options knows; default_db is for the jobs that name none."""
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except FileNotFoundError:
        raise ScheduleError(f"no schedule file {path}") from None
    except OSError as exc:
        raise ScheduleError(f"cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScheduleError(f"{path}: {exc}") from None
    for key in document:
        if key not in FILE_KEYS:
            raise ScheduleError(f"{path}: unknown key {key!r}; a schedule has [jobs.NAME] tables and lock_dir")
    tables = document.get("jobs")
    if not isinstance(tables, dict) or not tables:
        raise ScheduleError(f"{path}: no jobs; add a [jobs.NAME] table with sites and cron")
    lock_dir = document.get("lock_dir", DEFAULT_LOCK_DIR)
    if not isinstance(lock_dir, str):
        raise ScheduleError(f"{path}: lock_dir takes a folder name, not {lock_dir!r}")
    jobs = []
    for name, table in tables.items():
        try:
            jobs.append(_job(name, table, site_names, default_db))
        except ScheduleError as exc:
            raise ScheduleError(f"{path}: job {name!r}: {exc}") from None
    return Schedule(tuple(jobs), Path(lock_dir))


def _job(name: str, table, site_names: Callable[[argparse.Namespace], list[str]], default_db: str) -> Job:
    if not isinstance(table, dict):
        raise ScheduleError("must be a table: [jobs.NAME]")
    cron = table.get("cron")
    if not isinstance(cron, str):
        raise ScheduleError('no cron; add e.g. cron = "0 */6 * * *"')
    try:
        croniter(cron)
    except CroniterError as exc:
        raise ScheduleError(f"bad cron {cron!r}: {exc}") from None
    options, parsed = _crawl_options({key: value for key, value in table.items() if key not in SCHEDULE_KEYS})
    if parsed.db is None:
        options.append(f"--db={default_db}")
    known_sites = site_names(parsed)
    sites = table.get("sites", known_sites)  # none named: every site, as for `newscrawl crawl`
    if not isinstance(sites, list) or not sites or not all(isinstance(site, str) for site in sites):
        raise ScheduleError('sites takes a list of site names, e.g. sites = ["rocar", "henan"]')
    unknown = [site for site in sites if site not in known_sites]
    if unknown:
        raise ScheduleError(f"unknown site {unknown[0]!r}; known sites: {', '.join(known_sites)}")
    return Job(name, tuple(dict.fromkeys(sites)), cron, _duration(table.get("jitter", "0s")),
               tuple(options), parsed.db or default_db)


_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


def _duration(text) -> timedelta:
    match = _DURATION.fullmatch(text) if isinstance(text, str) and text else None
    if not match:
        raise ScheduleError(f'jitter takes a duration like "90s", "10m" or "1h30m", not {text!r}')
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


class _CrawlParser(argparse.ArgumentParser):
    """The arguments of `newscrawl crawl`, to check a job's options against before any crawl."""

    def __init__(self):
        super().__init__(prog="newscrawl crawl", add_help=False, allow_abbrev=False)
        crawl.add_arguments(self)

    def error(self, message):
        raise ScheduleError(message)

    def knows(self, option: str) -> bool:
        """Whether `newscrawl crawl` has this option, whatever value it takes."""
        try:
            return not self.parse_known_args([f"{option}=0"])[1]
        except ScheduleError:  # it knows the option, as a flag that takes no value
            return True


def _crawl_options(options: dict) -> tuple[list[str], argparse.Namespace]:
    """A job's crawl options as `newscrawl crawl` arguments, each key checked, and as parsed."""
    parser = _CrawlParser()
    arguments = []
    for key, value in options.items():
        if not parser.knows(_option(key)):
            raise ScheduleError(f"unknown key {key!r}; a job takes sites, cron, jitter "
                                "and the options of `newscrawl crawl`")
        key_arguments = _arguments(key, value)
        try:
            parser.parse_args(key_arguments)
        except ScheduleError as exc:
            raise ScheduleError(f"{key}: {exc}") from None
        arguments += key_arguments
    return arguments, parser.parse_args(arguments)


def _option(key: str) -> str:
    return "--set" if key == "settings" else "--" + key.replace("_", "-")


def _arguments(key: str, value) -> list[str]:
    """`flag = true` gives --flag (false: nothing), `name = value` --name=value, a list
    repeats the option, and settings = {NAME = value} gives --set=NAME=value."""
    if key == "settings":
        if not isinstance(value, dict):
            raise ScheduleError("settings takes a table of Scrapy settings, e.g. settings = {DOWNLOAD_DELAY = 5}")
        return [f"--set={name}={_text(setting)}" for name, setting in value.items()]
    arguments = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, dict):
            raise ScheduleError(f"{key} takes a value, not a table")
        if item is True:
            arguments.append(_option(key))
        elif item is not False:
            arguments.append(f"{_option(key)}={_text(item)}")
    return arguments


def _text(value) -> str:
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value)  # how Scrapy reads a dict or list setting given as text
    return str(value)


def latest_due(cron: str, now: datetime) -> datetime:
    """The cron time at or before now (get_prev alone skips now itself, when now is one)."""
    return croniter(cron, now + timedelta(microseconds=1)).get_prev(datetime)


class DueTimes:
    """The latest due time each job was started for, shared by the schedulers of a lock folder."""

    def __init__(self, folder: Path):
        self.path = folder / "schedule-state.json"
        self.lock = LockFile(folder / "schedule-state.lock")
        self._check(folder)

    def _check(self, folder: Path) -> None:
        """ScheduleError, before any crawl, when the folder cannot hold the locks and the state,
        or the state cannot be read (a scheduler would stop at its first due time)."""
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with self.lock:
                self._read()
        except OSError as exc:
            raise ScheduleError(f"cannot use the lock folder {folder}: {exc.strerror or exc}") from None
        except ValueError as exc:  # not JSON (json.JSONDecodeError), or not UTF-8
            raise ScheduleError(f"unreadable schedule state {self.path} ({exc}): "
                                "mend or delete it (every job then starts at once)") from None

    def last(self, job: str) -> datetime | None:
        stamp = self._read().get(job)
        return datetime.fromisoformat(stamp) if stamp else None

    def claim(self, job: str, due: datetime) -> bool:
        """Take due for job; False when it, or a later one, was taken already."""
        with self.lock:
            state = self._read()
            if job in state and datetime.fromisoformat(state[job]) >= due:
                return False
            state[job] = due.isoformat()
            partial = self.path.with_suffix(".partial")
            partial.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(partial, self.path)  # readers never see a half-written file
            return True

    def _read(self) -> dict[str, str]:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}


class SystemClock:
    """The machine's local time, in which cron expressions are read, as cron does."""

    def now(self) -> datetime:
        return datetime.now().astimezone()

    def wait(self, wake: threading.Event, seconds: float) -> None:
        wake.wait(seconds)


class CrawlProcess:
    """`newscrawl crawl …` in a process of its own; its output is passed on when it ends."""

    def __init__(self, arguments: list[str], pass_fds: tuple[int, ...]):
        self._stdout, self._stderr = tempfile.TemporaryFile(), tempfile.TemporaryFile()
        # A session of its own: a Ctrl-C in the terminal reaches the scheduler only,
        # which then stops its crawls itself, once.
        self._process = subprocess.Popen([sys.executable, "-m", "crawler.cli", *arguments],
                                         stdin=subprocess.DEVNULL, stdout=self._stdout, stderr=self._stderr,
                                         pass_fds=pass_fds, start_new_session=True)
        self.pid = self._process.pid

    def poll(self) -> int | None:
        return self._process.poll()

    def terminate(self) -> None:
        self._process.terminate()  # Scrapy stops gracefully and records the run as "shutdown"

    def wait(self) -> int:
        return self._process.wait()

    def finish(self) -> str:
        """Pass the crawl's output on; returns the last line it wrote on stderr."""
        outputs = []
        for file, stream in ((self._stdout, sys.stdout), (self._stderr, sys.stderr)):
            file.seek(0)
            outputs.append(file.read().decode("utf-8", "replace"))
            file.close()
            stream.write(outputs[-1])
            stream.flush()
        lines = outputs[1].strip().splitlines()
        return lines[-1] if lines else ""


@dataclass(frozen=True)
class _Plan:
    due: datetime  # a time of the job's cron expression
    start: datetime  # the due time plus the job's random jitter


@dataclass(frozen=True)
class _RunningCrawl:
    job: Job
    sites: list[str]
    started_at: datetime
    process: CrawlProcess
    locks: list[LockFile | DatabaseLock]


class Scheduler:
    """Starts each job's crawl when it is due, one crawl per site at a time.

    A job that never ran, or whose due time passed while no scheduler ran, starts
    at once: one crawl, however many due times were missed.
    """

    def __init__(self, schedule: Schedule, *, clock=None, launch=CrawlProcess, rng: random.Random | None = None):
        self.schedule = schedule
        self.clock = clock or SystemClock()
        self.launch = launch
        self.rng = rng or random.Random()
        self.due_times = DueTimes(schedule.lock_dir)
        self.running: list[_RunningCrawl] = []
        self.failures = 0
        self._stopping = threading.Event()

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set()

    def stop(self) -> None:
        """Start nothing more and stop the running crawls (safe to call from a signal handler)."""
        self._stopping.set()

    def run(self, *, once: bool = False) -> int:
        """Start crawls as they fall due until stopped, or with once only those due now, and
        wait for them; returns how many crawls failed."""
        now = self.clock.now()
        plans = {job: self._plan(job, now) for job in self.schedule.jobs}
        if once:
            plans = {job: plan for job, plan in plans.items() if plan.due <= now}
        while not self._stopping.is_set():
            self._reap()
            now = self.clock.now()
            for job, plan in list(plans.items()):
                if plan.start <= now:
                    self._start(job, plan.due, now)
                    if once:
                        del plans[job]
                    else:
                        plans[job] = self._plan(job, now)
            if once and not plans and not self.running:
                break
            self.clock.wait(self._stopping, self._pause(plans.values(), now))
        self._stop_crawls()
        return self.failures

    def _plan(self, job: Job, now: datetime) -> _Plan:
        due = latest_due(job.cron, now)
        last = self.due_times.last(job.name)
        if last is not None and due <= last:
            due = croniter(job.cron, now).get_next(datetime)
        return _Plan(due, due + timedelta(seconds=self.rng.uniform(0, job.jitter.total_seconds())))

    def _pause(self, plans, now: datetime) -> float:
        seconds = min(((plan.start - now).total_seconds() for plan in plans), default=MAX_PAUSE)
        if self.running:
            seconds = min(seconds, CRAWL_POLL)
        return max(0.0, min(seconds, MAX_PAUSE))

    def _start(self, job: Job, due: datetime, now: datetime) -> None:
        if not self.due_times.claim(job.name, due):
            return  # another scheduler has started it
        locks = {site: site_lock(job.db, self.schedule.lock_dir, site) for site in job.sites}
        busy = [site for site, lock in locks.items() if not lock.acquire()]
        if busy:
            log.warning("job %s: not crawling %s for %s: still being crawled (locked in %s)", job.name,
                        ", ".join(busy), shown_time(due), locks[busy[0]].where)
        sites = [site for site in job.sites if site not in busy]
        if not sites:
            return
        held = [locks[site] for site in sites]
        try:
            process = self.launch(job.crawl_arguments(sites), tuple(fd for lock in held for fd in lock.pass_fds))
        except OSError as exc:
            for lock in held:
                lock.release()
            self._failed(job, sites, now, f"the crawl process did not start: {exc}")
            return
        log.info("job %s: crawling %s (due %s, pid %s)", job.name, ", ".join(sites), shown_time(due),
                 process.pid)
        self.running.append(_RunningCrawl(job, sites, now, process, held))

    def _reap(self) -> None:
        for crawl in [crawl for crawl in self.running if crawl.process.poll() is not None]:
            self.running.remove(crawl)
            returncode = crawl.process.poll()
            last_line = crawl.process.finish()
            for lock in crawl.locks:
                lock.release()
            if returncode == 0:
                log.info("job %s: crawl of %s finished", crawl.job.name, ", ".join(crawl.sites))
            else:
                self._failed(crawl.job, crawl.sites, crawl.started_at, _failure(returncode, last_line))

    def _failed(self, job: Job, sites: list[str], started_at: datetime, error: str) -> None:
        """Log a failed crawl and record it in the store, where the crawl itself could not."""
        self.failures += 1
        log.error("job %s: crawl of %s failed: %s", job.name, ", ".join(sites), error)
        started_utc = started_at.astimezone(timezone.utc).replace(tzinfo=None)  # the store's times are naive UTC
        try:
            store = Store(job.db)
            try:
                for site in sites:
                    store.record_failed_run(site, started_utc, error)
            finally:
                store.close()
        except StoreError as exc:
            log.error("job %s: cannot record the failure: %s", job.name, exc)

    def _stop_crawls(self) -> None:
        for crawl in self.running:
            crawl.process.terminate()
        for crawl in self.running:
            crawl.process.wait()
        self._reap()


def _failure(returncode: int, last_line: str) -> str:
    """Why a crawl process failed, in one line."""
    if returncode < 0:
        reason = f"the crawl process was killed by {signal.Signals(-returncode).name}"
    else:
        reason = f"the crawl process exited with code {returncode}"
    return f"{reason}: {last_line}" if last_line else reason
