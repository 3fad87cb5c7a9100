"""Scaling out: crawl throughput into SQLite against PostgreSQL, and one frontier worker against three.

Starts a PostgreSQL and a Redis server of its own (tests/servers.py: the OS packages' binaries).
1. Every fixture site replayed into a new SQLite store and into a new PostgreSQL database, in
   turns, ROUNDS times: pages per second of each, and their ratio.
2. One recorded site (henan), served over HTTP on 127.0.0.1 (tests/loopback.py) so that the live
   downloader and its politeness delay work as on the network, crawled with --frontier by 1
   worker, then by 3, DELAY seconds between one worker's requests: the time from the first
   page fetched to the last, and the speed-up.
Ratios are measured in one run; compare ratios between runs, not seconds.
Usage: .venv/bin/python bench/scale.py [ROUNDS]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crawler.runner import FIXTURES  # noqa: E402
from tests.loopback import recorded_site_proxy  # noqa: E402
from tests.servers import PostgresServer, RedisServer  # noqa: E402

DELAY = 1.0
FRONTIER_SITE = "henan"  # http: the loopback proxy serves it
ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "NEWSCRAWL_DB"}


def newscrawl(*args: str, proxy: str | None = None) -> subprocess.Popen:
    environment = {**ENVIRONMENT, "http_proxy": proxy, "no_proxy": ""} if proxy else ENVIRONMENT
    return subprocess.Popen([sys.executable, "-m", "crawler.cli", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> None:
    _out, err = process.communicate(timeout=600)
    if process.returncode:
        sys.exit(f"bench: a crawl failed: {err.strip().splitlines()[-1:]}")


def timed_crawl(db: str, log: Path) -> tuple[float, int]:
    """Seconds a replayed crawl of every site into db takes, and the pages it fetched."""
    started = time.perf_counter()
    finish(newscrawl("crawl", "--replay", "--db", db, "-s", f"NEWSCRAWL_REPLAY_LOG={log}",
                     "-s", "HTTPCACHE_ENABLED=False"))
    return time.perf_counter() - started, len(log.read_text().splitlines())


def frontier_crawl(workers: int, db: str, redis_url: str) -> float:
    """Seconds from the first page any of `workers` workers asked the site for to the last one
    (the workers' start-up, a few seconds of Python imports, is left out)."""
    with recorded_site_proxy(FIXTURES / FRONTIER_SITE) as (proxy, requests):
        processes = [newscrawl("crawl", FRONTIER_SITE, "--db", db, "--frontier", redis_url,
                               "-s", f"DOWNLOAD_DELAY={DELAY}", "-s", "RANDOMIZE_DOWNLOAD_DELAY=False",
                               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "NEWSCRAWL_FRONTIER_IDLE=2",
                               "-s", "HTTPCACHE_ENABLED=False", proxy=proxy) for _ in range(workers)]
        first_request = last_request = None
        seen = 0
        while any(process.poll() is None for process in processes):
            if len(requests) != seen:
                last_request, seen = time.time(), len(requests)
                first_request = first_request or last_request
            time.sleep(0.02)
        for process in processes:
            finish(process)
    return last_request - first_request


def main(rounds: int) -> None:
    postgres, redis = PostgresServer().start(), RedisServer().start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            totals = {"sqlite": [0.0, 0], "postgresql": [0.0, 0]}
            for round_ in range(rounds):
                for name, db in (("sqlite", f"sqlite:///{folder / f'round{round_}.db'}"),
                                 ("postgresql", postgres.new_database())):
                    seconds, pages = timed_crawl(db, folder / f"{name}-{round_}.log")
                    totals[name][0] += seconds
                    totals[name][1] += pages
            rates = {name: pages / seconds for name, (seconds, pages) in totals.items()}
            for name, rate in rates.items():
                print(f"crawl into {name:<10}  {rate:6.1f} pages/s  ({totals[name][1]} pages, {rounds} rounds)")
            print(f"PostgreSQL / SQLite throughput: {rates['postgresql'] / rates['sqlite']:.2f}")

            one = frontier_crawl(1, postgres.new_database(), redis.url(1))
            three = frontier_crawl(3, postgres.new_database(), redis.url(2))
            print(f"frontier, {FRONTIER_SITE} at DOWNLOAD_DELAY={DELAY}: 1 worker {one:.1f} s, 3 workers {three:.1f} s "
                  "(first page to last)")
            print(f"3 workers / 1 worker speed-up: {one / three:.2f}")
    finally:
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
