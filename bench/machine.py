"""What this machine's cores give: CPU-bound processes run at once, against one alone.

The benches' targets are ratios on 2 cores, but two virtual cores may be two threads of one
physical core, or share their host with other guests: then each of two processes running at
once is slower than one alone, and a crawl or a search using both gains less than twice.
parallel_capacity() measures that in the bench's own run, so that its ratios can be read for
what the machine gave them.
Usage: .venv/bin/python bench/machine.py
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import time

SPIN_ITERATIONS = 3_000_000  # a quarter of a second of Python on these machines


def _spin(iterations: int) -> tuple[float, float]:
    """When a pure-Python loop of `iterations` (no memory traffic, no system calls) began and
    ended, in seconds of the system-wide monotonic clock (time.perf_counter on Linux)."""
    started = time.perf_counter()
    total = 0
    for number in range(iterations):
        total += number
    return started, time.perf_counter()


def parallel_capacity(processes: int | None = None, rounds: int = 3) -> float:
    """The work `processes` CPU-bound processes (default: one a core) do at once, in units of
    what one does alone in the same time: `processes` on idle cores of their own, less where
    cores are threads of one physical core or the host is busy. The median of `rounds`
    measurements (each the spin alone, then in every process at once: from the first start to
    the last end, so that spins that ran one after the other count as such), as a float > 0."""
    processes = processes or os.cpu_count() or 1
    with multiprocessing.get_context("fork").Pool(processes) as pool:  # every process started now
        pool.map(_spin, [SPIN_ITERATIONS // 10] * processes, chunksize=1)
        samples = []
        for _ in range(rounds):
            started, ended = pool.apply(_spin, (SPIN_ITERATIONS,))
            spans = pool.map(_spin, [SPIN_ITERATIONS] * processes, chunksize=1)
            together = max(end for _, end in spans) - min(start for start, _ in spans)
            samples.append(processes * (ended - started) / together)
    return statistics.median(samples)


def capacity_line(measured: dict[str, float]) -> str:
    """parallel_capacity() results, by when they were measured, as the benches print them."""
    processes = os.cpu_count() or 1
    return (f"{processes} CPU-bound processes at once did "
            + ", ".join(f"{capacity:.2f}x ({when})" for when, capacity in measured.items())
            + f" the work of one alone ({processes}.00 on idle cores of their own)")


if __name__ == "__main__":
    print(capacity_line({"now": parallel_capacity()}))
