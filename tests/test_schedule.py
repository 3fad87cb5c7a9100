"""Scheduled crawls, driven by a controllable clock and a fake crawl launcher: when jobs start,
the per-site locks, failures, the schedule file; then the real `newscrawl schedule`, and the
store opened from a zipped egg as under Scrapyd."""

import dataclasses
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import zipfile
from datetime import datetime, timedelta, timezone

import pytest

from crawler.cli import main
from crawler.commands.common import shown_time
from crawler.commands.schedule import crawl_site_names
from crawler.locks import LockFile, site_lock
from crawler.runner import FIXTURES
from crawler.schedule import Scheduler, latest_due, load_schedule
from storage import RunCounts, Store
from tests.cli_runner import ROOT, newscrawl
from tests.test_cli import assert_one_line_error

KNOWN_SITES = ["henan", "jfmi", "rocar"]
MONDAY_5AM = datetime(2030, 1, 7, 5, 0, tzinfo=timezone.utc)
# Holds an flock on the file named by argv[1] until killed or its stdin closes.
HOLD_LOCK = ("import fcntl, sys; lock = open(sys.argv[1], 'a'); fcntl.flock(lock, fcntl.LOCK_EX); "
             "print('held', flush=True); sys.stdin.read()")


class FakeClock:
    """Time that passes only when the scheduler waits; it stops the scheduler at `until`, if given."""

    def __init__(self, now: datetime, until: datetime | None = None):
        self.time = now
        self.until = until

    def now(self) -> datetime:
        return self.time

    def wait(self, wake, seconds: float) -> None:
        self.time += timedelta(seconds=seconds)
        if self.until and self.time >= self.until:
            wake.set()


class FakeCrawl:
    def __init__(self, clock: FakeClock, returncode: int, last_line: str, duration: timedelta):
        self.clock, self.returncode, self.last_line = clock, returncode, last_line
        self.ends = clock.now() + duration
        self.pid = 4242

    def poll(self):
        return self.returncode if self.clock.now() >= self.ends else None

    def terminate(self):
        if self.poll() is None:
            self.ends, self.returncode = self.clock.now(), -signal.SIGTERM

    def wait(self):
        return self.returncode

    def finish(self):
        return self.last_line


class FakeLauncher:
    """Starts fake crawls, noting for each when, with which arguments, and which files' locks it was given."""

    def __init__(self, clock: FakeClock, outcomes=(), duration=timedelta(0)):
        self.clock, self.duration = clock, duration
        self.outcomes = list(outcomes)  # (returncode, last stderr line) of the next crawls; then success
        self.launches = []

    def __call__(self, arguments, pass_fds):
        self.launches.append((self.clock.now(), arguments, [os.fstat(fd).st_ino for fd in pass_fds]))
        returncode, last_line = self.outcomes.pop(0) if self.outcomes else (0, "")
        return FakeCrawl(self.clock, returncode, last_line, self.duration)

    @property
    def times(self):
        return [time for time, _arguments, _locks in self.launches]

    @property
    def sites(self):
        return [[arg for arg in arguments[1:] if not arg.startswith("--")] for _time, arguments, _locks in self.launches]


def schedule_in(tmp_path, jobs: str):
    path = tmp_path / "schedule.toml"
    path.write_text(f'lock_dir = "{tmp_path / "locks"}"\n{jobs}', encoding="utf-8")
    return load_schedule(path, lambda _crawl_options: KNOWN_SITES, f"sqlite:///{tmp_path / 'articles.db'}")


def run(schedule, start, until=None, *, once=False, rng=None, **crawls):
    """Runs a scheduler from start (until `until`, or with once until done); returns its launcher and failures."""
    clock = FakeClock(start, until)
    launcher = FakeLauncher(clock, **crawls)
    failures = Scheduler(schedule, clock=clock, launch=launcher, rng=rng).run(once=once)
    return launcher, failures


def at(hour, minute=0, day=0):
    return MONDAY_5AM.replace(hour=hour, minute=minute) + timedelta(days=day)


def crawl_runs(tmp_path):
    with sqlite3.connect(tmp_path / "articles.db") as connection:
        return connection.execute("select spider, status, error from crawl_runs order by id").fetchall()


EVERY_SIX_HOURS = '[jobs.six]\nsites = ["rocar"]\ncron = "0 */6 * * *"\n'


def test_a_job_starts_at_each_due_time_and_never_before(tmp_path):
    launcher, failures = run(schedule_in(tmp_path, EVERY_SIX_HOURS), at(5), at(23, 59))
    # 05:00: the job never ran, so its latest due time (00:00) is caught up at once
    assert launcher.times == [at(5), at(6), at(12), at(18)]
    assert launcher.launches[0][1] == ["crawl", "rocar", f"--db=sqlite:///{tmp_path / 'articles.db'}"]
    assert failures == 0


def test_a_due_time_is_started_once_whatever_the_number_of_schedulers(tmp_path):
    schedule = schedule_in(tmp_path, EVERY_SIX_HOURS)
    first, _ = run(schedule, at(6), once=True)
    second, _ = run(schedule, at(6), once=True)  # two `--once` at the same minute
    later, _ = run(schedule, at(6, 5), once=True)
    restarted, _ = run(schedule, at(6, 30), at(11, 59))  # a long-running scheduler restarted
    assert (len(first.launches), len(second.launches), len(later.launches), len(restarted.launches)) == (1, 0, 0, 0)
    next_due, _ = run(schedule, at(12), once=True)
    assert next_due.times == [at(12)]


def test_several_missed_due_times_make_one_crawl(tmp_path):
    schedule = schedule_in(tmp_path, EVERY_SIX_HOURS)
    run(schedule, at(6), once=True)
    launcher, _ = run(schedule, at(5, day=2), once=True)  # two days off: 8 due times missed
    assert launcher.times == [at(5, day=2)]


def test_jitter_delays_each_start_by_up_to_its_bound(tmp_path):
    schedule = schedule_in(tmp_path, '[jobs.q]\nsites = ["henan"]\ncron = "*/15 * * * *"\njitter = "10m"\n')
    launcher, _ = run(schedule, at(5), at(5, day=1), rng=random.Random(7))
    delays = [(time - latest_due("*/15 * * * *", time)).total_seconds() for time in launcher.times]
    assert len(delays) == 24 * 4
    assert all(0 <= delay <= 600 for delay in delays)
    assert min(delays) < 60 and max(delays) > 540  # spread over the whole window


def test_once_waits_for_the_jitter_of_what_is_due(tmp_path):
    schedule = schedule_in(tmp_path, '[jobs.q]\nsites = ["henan"]\ncron = "0 6 * * *"\njitter = "10m"\n')
    launcher, _ = run(schedule, at(6), once=True)
    assert len(launcher.times) == 1 and at(6) <= launcher.times[0] <= at(6, 10)


def test_a_site_locked_by_another_process_is_refused_not_queued_and_free_once_its_holder_dies(tmp_path, caplog):
    schedule = schedule_in(tmp_path, '[jobs.two]\nsites = ["henan", "rocar"]\ncron = "0 */6 * * *"\n')
    (tmp_path / "locks").mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(tmp_path / "locks" / "rocar.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        refused, _ = run(schedule, at(6), once=True)
        assert refused.sites == [["henan"]]
        assert f"not crawling rocar for {shown_time(at(6))}: still being crawled" in caplog.text
    finally:
        holder.kill()  # SIGKILL: no chance to unlock anything
        holder.wait()
    assert run(schedule, at(6, 30), once=True)[0].launches == []  # the refused due time is not run late
    freed, _ = run(schedule, at(12), once=True)
    assert freed.sites == [["henan", "rocar"]]


def test_a_site_stays_locked_while_its_crawl_runs(tmp_path, caplog):
    schedule = schedule_in(tmp_path, '[jobs.daily]\nsites = ["rocar"]\ncron = "0 6 * * *"\n'
                                     '[jobs.hourly]\nsites = ["rocar", "jfmi"]\ncron = "30 * * * *"\n')
    launcher, _ = run(schedule, at(5, 59), at(9), duration=timedelta(hours=2))
    # 05:59: both jobs catch up; rocar is the daily job's until 07:59, so the hourly job crawls jfmi
    # alone, then nothing (06:30, 07:30), and both sites once the two crawls have ended (08:30).
    assert list(zip(launcher.times, launcher.sites)) == [
        (at(5, 59), ["rocar"]), (at(5, 59), ["jfmi"]), (at(8, 30), ["rocar", "jfmi"])]
    assert f"job daily: not crawling rocar for {shown_time(at(6))}" in caplog.text
    # each crawl process is handed the locks of its sites, so that they are held as long as it runs
    locks = tmp_path / "locks"
    assert [inodes for _time, _arguments, inodes in launcher.launches] == [
        [(locks / "rocar.lock").stat().st_ino], [(locks / "jfmi.lock").stat().st_ino],
        [(locks / "rocar.lock").stat().st_ino, (locks / "jfmi.lock").stat().st_ino]]


def test_a_failed_crawl_is_recorded_with_its_error_and_the_schedule_goes_on(tmp_path):
    schedule = schedule_in(tmp_path, EVERY_SIX_HOURS)
    launcher, failures = run(schedule, at(5), at(12, 30),
                             outcomes=[(2, "newscrawl: no recordings folder at /gone"), (-9, "")])
    assert launcher.times == [at(5), at(6), at(12)]
    assert failures == 2
    assert crawl_runs(tmp_path) == [
        ("rocar", "failed", "the crawl process exited with code 2: newscrawl: no recordings folder at /gone"),
        ("rocar", "failed", "the crawl process was killed by SIGKILL"),
    ]


def test_stopping_stops_the_running_crawls_and_releases_their_locks(tmp_path):
    schedule = schedule_in(tmp_path, EVERY_SIX_HOURS)
    launcher, failures = run(schedule, at(6), at(7), duration=timedelta(hours=3))
    assert failures == 1  # the crawl stopped at 07:00 ended on SIGTERM
    assert launcher.times == [at(6)]
    assert crawl_runs(tmp_path) == [("rocar", "failed", "the crawl process was killed by SIGTERM")]
    assert LockFile(tmp_path / "locks" / "rocar.lock").acquire()


def test_a_run_a_dead_crawl_left_running_is_marked_failed_and_a_recorded_end_is_kept(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'articles.db'}")
    before = datetime(2020, 1, 1)
    store.start_run("rocar")
    store.finish_run(store.start_run("henan"), "shutdown", RunCounts())
    assert store.record_failed_run("rocar", before, "killed by SIGKILL")
    assert not store.record_failed_run("henan", before, "exited with code 1")
    assert store.record_failed_run("jfmi", before, "exited with code 2")
    assert crawl_runs(tmp_path) == [("rocar", "failed", "killed by SIGKILL"), ("henan", "shutdown", None),
                                    ("jfmi", "failed", "exited with code 2")]


def test_crawl_options_become_crawl_arguments(tmp_path):
    schedule = schedule_in(tmp_path, """
[jobs.options]
sites = ["jfmi"]
cron = "0 3 * * *"
replay = "tests/fixtures"
settings = {DOWNLOAD_DELAY = 5, LOG_LEVEL = "INFO"}
db = "sqlite:///elsewhere.db"

[jobs.all]
cron = "0 4 * * 1"
replay = true
""")
    options, every_site = schedule.jobs
    assert options.crawl_arguments(["jfmi"]) == [
        "crawl", "jfmi", "--replay=tests/fixtures", "--set=DOWNLOAD_DELAY=5", "--set=LOG_LEVEL=INFO",
        "--db=sqlite:///elsewhere.db"]
    assert options.db == "sqlite:///elsewhere.db"
    assert every_site.sites == tuple(KNOWN_SITES)
    assert every_site.options == ("--replay", f"--db=sqlite:///{tmp_path / 'articles.db'}")


def test_a_job_may_crawl_the_sites_of_a_sites_file(tmp_path):
    sites_file = tmp_path / "sites.toml"
    sites_file.write_text('[sites.mycity]\nstart_url = "http://www.example.gov.cn/col/col1/index.html"\n'
                          "article_pattern = '/art/\\d+\\.html$'\n", encoding="utf-8")
    path = tmp_path / "schedule.toml"
    path.write_text(f'[jobs.a]\nsites = ["mycity", "rocar"]\ncron = "0 * * * *"\nsites_file = "{sites_file}"\n',
                    encoding="utf-8")
    job, = load_schedule(path, crawl_site_names, "sqlite:///a.db").jobs
    assert job.crawl_arguments(list(job.sites)) == [
        "crawl", "mycity", "rocar", f"--sites-file={sites_file}", "--db=sqlite:///a.db"]


@pytest.mark.parametrize("content, message", [
    ('[jobs.a]\ncron = "0 * * * *"\nrefersh = true\n', "job 'a': unknown key 'refersh'"),
    ('jobz = 1\n', "unknown key 'jobz'"),
    ('[jobs.a]\ncron = "61 * * * *"\n', "job 'a': bad cron '61 * * * *'"),
    ('[jobs.a]\nsites = ["rocar"]\n', "job 'a': no cron"),
    ('[jobs.a]\ncron = "0 * * * *"\nsites = ["nosuchsite"]\n', "job 'a': unknown site 'nosuchsite'; known sites:"),
    ('[jobs.a]\ncron = "0 * * * *"\nsites = "rocar"\n', "job 'a': sites takes a list"),
    ('[jobs.a]\ncron = "0 * * * *"\njitter = "10 minutes"\n', "job 'a': jitter takes a duration"),
    ('[jobs.a]\ncron = "0 * * * *"\nrefresh = "yes"\n', "job 'a': refresh: argument --refresh: ignored explicit"),
    ('[jobs.a]\ncron = "0 * * * *"\nsettings = "DOWNLOAD_DELAY=5"\n', "job 'a': settings takes a table"),
    ('[jobs.a\ncron = "0 * * * *"\n', "(at line 1, column"),
    ('lock_dir = "x"\n', "no jobs"),
    ('[jobs.a]\ncron = "0 * * * *"\nsites_file = "/no/sites.toml"\n', "job 'a': no sites file at /no/sites.toml"),
])
def test_a_bad_schedule_file_gets_one_line_and_exit_2(tmp_path, monkeypatch, capsys, content, message):
    monkeypatch.chdir(tmp_path)  # where the default lock folder would be, had the file been accepted
    path = tmp_path / "schedule.toml"
    path.write_text(content, encoding="utf-8")
    assert main(["schedule", "--file", str(path), "--once", "--db", f"sqlite:///{tmp_path / 'a.db'}"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith(f"newscrawl: {path}: ")
    assert message in error
    assert list(tmp_path.iterdir()) == [path]  # nothing created, nothing started


def test_a_missing_schedule_file(tmp_path, capsys):
    assert main(["schedule", "--file", str(tmp_path / "none.toml"), "--once"]) == 2
    assert capsys.readouterr().err == f"newscrawl: no schedule file {tmp_path / 'none.toml'}\n"


def schedule_file(tmp_path, site: str) -> str:
    path = tmp_path / "schedule.toml"
    path.write_text(f"""
lock_dir = "{tmp_path / 'locks'}"
[jobs.test]
sites = ["{site}"]
cron = "0 */6 * * *"
replay = "{FIXTURES / site}"
db = "sqlite:///{tmp_path / 'articles.db'}"
""", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("fault, message", [("a file", "cannot use the lock folder"),
                                            ("garbage state", "unreadable schedule state")])
def test_a_lock_folder_it_cannot_use_gets_one_line_and_exit_2_before_any_crawl(tmp_path, fault, message):
    path = schedule_file(tmp_path, "henan")
    locks = tmp_path / "locks"
    if fault == "a file":
        locks.write_text("not a folder")
    else:
        locks.mkdir()
        (locks / "schedule-state.json").write_text("garbage")
    result = newscrawl("schedule", "--file", path, "--once")
    assert_one_line_error(result, str(locks), message)
    assert not (tmp_path / "articles.db").exists()  # refused before any store or crawl


def test_schedule_once_runs_what_is_due_and_records_it(tmp_path):
    path = schedule_file(tmp_path, "henan")
    result = newscrawl("schedule", "--file", path, "--once")
    assert result.returncode == 0, result.stderr
    assert "job test: crawling henan" in result.stderr and "job test: crawl of henan finished" in result.stderr
    assert result.stdout.splitlines()[1].split()[:2] == ["henan", "finished"]  # the crawl's own summary
    with sqlite3.connect(tmp_path / "articles.db") as connection:
        runs = connection.execute("select spider, status, articles_new, finished_at from crawl_runs").fetchall()
    assert len(runs) == 1 and runs[0][:2] == ("henan", "finished") and runs[0][2] > 0 and runs[0][3]
    again = newscrawl("schedule", "--file", path, "--once")  # the same due time: nothing to do
    assert again.returncode == 0 and "crawling" not in again.stderr
    with sqlite3.connect(tmp_path / "articles.db") as connection:
        assert connection.execute("select count(*) from crawl_runs").fetchone() == (1,)


def test_schedule_stops_on_sigterm_with_exit_0(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "crawler.cli", "schedule", "--file",
                                schedule_file(tmp_path, "rocar")],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    watchdog = threading.Timer(120, process.kill)  # never hang the suite, whatever goes wrong
    watchdog.start()
    try:
        assert any("job test: crawling rocar" in line for line in process.stderr)
        process.send_signal(signal.SIGTERM)
        process.communicate()
        assert process.returncode == 0
    finally:
        watchdog.cancel()
        process.kill()
    assert LockFile(tmp_path / "locks" / "rocar.lock").acquire()  # its crawl has ended: the site is free
    with sqlite3.connect(tmp_path / "articles.db") as connection:  # and its run says how it ended
        assert [status for status, in connection.execute("select status from crawl_runs")] in (
            ["finished"], ["interrupted"], ["failed"])


def test_the_store_opens_from_a_zipped_egg_as_scrapyd_runs_the_project(tmp_path):
    egg = tmp_path / "newscrawl.egg"  # Scrapyd puts the egg itself, a zip file, on sys.path
    with zipfile.ZipFile(egg, "w") as archive:
        for path in (ROOT / "storage").rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(ROOT))
    opens_store = ("import sys; sys.path.insert(0, sys.argv[1]); import storage; "
                   "assert storage.__file__.startswith(sys.argv[1]); storage.Store(sys.argv[2]).close()")
    result = subprocess.run([sys.executable, "-c", opens_store, str(egg), f"sqlite:///{tmp_path / 'a.db'}"],
                            cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "a.db") as connection:  # created at the current schema
        assert connection.execute("select count(*) from crawl_runs").fetchone() == (0,)


def test_with_a_postgresql_store_the_site_lock_is_in_the_database_for_every_machine(tmp_path, postgres, caplog):
    db = postgres.new_database()
    schedule_file = tmp_path / "schedule.toml"
    schedule_file.write_text('[jobs.six]\nsites = ["rocar", "jfmi"]\ncron = "0 */6 * * *"\n', encoding="utf-8")
    # two machines: lock folders of their own, one store
    machines = [load_schedule(schedule_file, lambda _options: KNOWN_SITES, db) for _ in range(2)]
    machines = [dataclasses.replace(schedule, lock_dir=tmp_path / f"machine{n}") for n, schedule in enumerate(machines)]
    holder = site_lock(db, machines[0].lock_dir, "rocar")
    assert holder.acquire()
    try:
        assert not site_lock(db, machines[1].lock_dir, "rocar").acquire()
        launcher, _ = run(machines[1], at(6), once=True)
        assert launcher.sites == [["jfmi"]]
        assert f"not crawling rocar for {shown_time(at(6))}: still being crawled (locked in the store's database)" \
            in caplog.text
    finally:
        holder.release()
    free = site_lock(db, machines[1].lock_dir, "rocar")
    assert free.acquire()  # released with its holder's session
    free.release()
