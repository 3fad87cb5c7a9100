"""Crawl health for monitoring (`newscrawl stats --check`): a site whose last crawl failed, or
yielded far less than its recent crawls did, usually changed its layout or is down.

Each site's last crawl (one still running is left aside) is compared with the median of the
crawls before it that finished: how many article links it found, the share of its article
pages without a body, its errors.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import median

from storage.reader import CrawlRunView, RunCounts

HISTORY = 10  # earlier finished crawls whose median the last one is compared with
RUNS_READ = HISTORY + 2  # per site: one still running, the last, and those before it
MIN_HISTORY = 3  # fewer earlier crawls than this: only a failure is reported
FAR_BELOW = 0.5  # articles found under half the median is "far below"
NO_BODY_RISE = 0.25  # the no-body share 25 points above its median: extraction broke
ERRORS_FACTOR, ERRORS_MARGIN = 2, 3  # errors above twice the median and 3 more than it


@dataclass(frozen=True)
class Problem:
    site: str
    kind: str  # failed, few_articles, no_body, errors
    message: str  # one line, naming the site


def articles_found(counts: RunCounts) -> int:
    """The article links a crawl found on list pages: fetched (with or without a body) or skipped."""
    return (counts.articles_new + counts.articles_updated + counts.articles_unchanged + counts.duplicates
            + counts.empty_pages + counts.articles_skipped)


def no_body_share(counts: RunCounts) -> float:
    fetched = (counts.articles_new + counts.articles_updated + counts.articles_unchanged + counts.duplicates
               + counts.empty_pages)
    return counts.empty_pages / fetched if fetched else 0.0


def site_problems(site: str, runs: list[CrawlRunView]) -> list[Problem]:
    """What is wrong with a site's last crawl, given its crawls newest first."""
    ended = [run for run in runs if run.status != "running"]
    if not ended:
        return []
    last, earlier = ended[0], [run for run in ended[1:] if run.status == "finished"][:HISTORY]
    when = f"run {last.id}, {last.started_at:%Y-%m-%d %H:%M}"
    if last.status != "finished":
        reason = (last.error or "").strip().split("\n")[0]
        return [Problem(site, "failed", f"{site}: last crawl ({when}) ended {last.status}"
                                        + (f": {reason}" if reason else ""))]
    if len(earlier) < MIN_HISTORY:
        return []
    problems = []
    found, usual_found = articles_found(last.counts), median(articles_found(run.counts) for run in earlier)
    if found < usual_found * FAR_BELOW:
        problems.append(Problem(site, "few_articles", f"{site}: last crawl ({when}) found {found} articles, "
                                                      f"far below its recent median of {usual_found:g}"))
    share, usual_share = no_body_share(last.counts), median(no_body_share(run.counts) for run in earlier)
    if share >= usual_share + NO_BODY_RISE:
        problems.append(Problem(site, "no_body", f"{site}: last crawl ({when}) found no body in {share:.0%} of "
                                                 f"its article pages, up from a recent median of {usual_share:.0%}"))
    errors, usual_errors = last.counts.errors, median(run.counts.errors for run in earlier)
    if errors > max(usual_errors * ERRORS_FACTOR, usual_errors + ERRORS_MARGIN):
        problems.append(Problem(site, "errors", f"{site}: last crawl ({when}) had {errors} errors, "
                                                f"up from a recent median of {usual_errors:g}"))
    return problems


def problems(runs_by_site: dict[str, list[CrawlRunView]]) -> list[Problem]:
    """Every site's problems, by site."""
    return [problem for site in sorted(runs_by_site) for problem in site_problems(site, runs_by_site[site])]
