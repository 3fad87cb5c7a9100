"""newscrawl re-extract [SITE ...] [--dry-run] [--json]"""

import sys
from dataclasses import asdict, dataclass, field, replace

from crawler import runner
from crawler.commands.common import (add_db_option, add_json_option, add_sites_file_option, known_sites, print_json,
                                     print_table, spider_class, store_url, use_sites_file)
from crawler.extraction_pool import ExtractionFailed, extract_article
from storage import EXTRACTED_FIELDS, ArticleRecord, DamagedPages, Store

HELP = ("run the current extraction over the stored raw HTML (no network) and update what changed, "
        "so a fixed site rule reaches articles crawled before; retry the pages extraction failed on")
NO_ARTICLE = "no article text or title"  # why a failed page that extracts without raising is still not stored


@dataclass
class SiteReport:
    checked: int = 0
    changed: int = 0
    # field name -> articles in which it changed
    fields: dict[str, int] = field(default_factory=lambda: dict.fromkeys(EXTRACTED_FIELDS, 0))
    now_empty: list[str] = field(default_factory=list)  # URLs the extraction finds no text or title in: kept
    same_text_as: dict[str, str] = field(default_factory=dict)  # URL -> the article that has its new text
    extraction_fails: dict[str, str] = field(default_factory=dict)  # URL -> why the rules raise on it: kept
    failed_pages: int = 0  # kept failed pages retried
    now_stored: list[str] = field(default_factory=list)  # failed pages that extract now: stored as articles
    still_failing: dict[str, str] = field(default_factory=dict)  # failed page's URL -> why: kept
    # URL -> why its stored HTML cannot be read (articles and failed pages): left as they are
    damaged: dict[str, str] = field(default_factory=dict)


def add_arguments(parser) -> None:
    parser.add_argument("sites", nargs="*", metavar="SITE", help="spider names (default: every site)")
    parser.add_argument("--dry-run", action="store_true", help="report what would change, change nothing")
    add_json_option(parser)
    add_db_option(parser)
    add_sites_file_option(parser)


def run(args) -> int:
    settings = runner.project_settings(args.db)
    use_sites_file(settings, args.sites_file)  # sites crawled without a spider module are re-extracted too
    sites = known_sites(args.sites, settings)
    store = Store(store_url(args.db), create=False)  # it writes: not a reading command's StoreReader
    reports = {}
    for site in sites:
        rules = spider_class(site, settings).extraction_rules
        reports[site] = re_extract(store, site, rules, args.dry_run)
        retry_failed_pages(store, site, rules, args.dry_run, reports[site])
    if args.json:
        print_json({"dry_run": args.dry_run, "sites": {site: asdict(report) for site, report in reports.items()}})
    else:
        print_report(reports, args.dry_run)
    damaged = sum(len(report.damaged) for report in reports.values())
    if damaged:  # the rest was re-extracted; a scheduled run must still not look clean
        print(f"newscrawl: the stored HTML of {damaged} page{'s' if damaged > 1 else ''} cannot be read "
              "(named in the report); they were left as they are: restore the store from a copy", file=sys.stderr)
        return 1
    return 0


def re_extract(store: Store, site: str, rules, dry_run: bool) -> SiteReport:
    """The site's stored articles, extracted again from all their pages; those that changed updated."""
    report = SiteReport()
    for stored in store.stored_pages(site):
        report.checked += 1
        if isinstance(stored, DamagedPages):
            report.damaged[stored.url] = stored.reason
            continue
        try:
            article = extract_article([stored.html, *stored.more_pages], stored.url, rules)
        except ExtractionFailed as exc:  # a broken rule must not wipe a good article either
            report.extraction_fails[stored.url] = str(exc)
            continue
        fresh = replace(stored, **asdict(article))
        changed = [name for name in EXTRACTED_FIELDS if getattr(fresh, name) != getattr(stored, name)]
        if not changed:
            continue
        if not fresh.text or not fresh.title:
            # the crawl would not store such a page; a worse rule must not wipe a good article
            report.now_empty.append(stored.url)
        elif twin := store.update_extraction(fresh, dry_run=dry_run):
            report.same_text_as[stored.url] = twin
        else:
            report.changed += 1
            for name in changed:
                report.fields[name] += 1
    return report


def retry_failed_pages(store: Store, site: str, rules, dry_run: bool, report: SiteReport) -> None:
    """The site's failed pages, extracted again: one that gives an article now is stored as a crawl
    would store it (its failed page is then forgotten); one whose text is stored under another URL
    is a duplicate, forgotten too; the others are kept, with why."""
    for failed in store.failed_pages(site):
        report.failed_pages += 1
        if isinstance(failed, DamagedPages):
            report.damaged[failed.url] = failed.reason
            continue
        try:
            article = extract_article(list(failed.pages), failed.url, rules)
        except ExtractionFailed as exc:
            report.still_failing[failed.url] = str(exc)
            continue
        if not article.text or not article.title:
            report.still_failing[failed.url] = NO_ARTICLE
            continue
        record = ArticleRecord(url=failed.url, site=site, html=failed.pages[0], more_pages=failed.pages[1:],
                               **asdict(article))
        if twin := store.url_with_text(record):
            report.same_text_as[failed.url] = twin
            if not dry_run:
                store.forget_failed_page(failed.url)
            continue
        if not dry_run:
            store.save_articles([record])
        report.now_stored.append(failed.url)


def print_report(reports: dict[str, SiteReport], dry_run: bool) -> None:
    """One column per site, so that the field names fit down the side."""
    rows = {"checked": [report.checked for report in reports.values()],
            "changed": [report.changed for report in reports.values()]}
    rows.update({f"  {name}": [report.fields[name] for report in reports.values()] for name in EXTRACTED_FIELDS})
    rows["now empty, kept"] = [len(report.now_empty) for report in reports.values()]
    rows["same text, skipped"] = [len(report.same_text_as) for report in reports.values()]
    rows["extraction fails, kept"] = [len(report.extraction_fails) for report in reports.values()]
    rows["failed pages"] = [report.failed_pages for report in reports.values()]
    rows["  now stored"] = [len(report.now_stored) for report in reports.values()]
    rows["  still failing"] = [len(report.still_failing) for report in reports.values()]
    rows["damaged HTML, kept"] = [len(report.damaged) for report in reports.values()]
    print_table([("", *reports)] + [(label, *values) for label, values in rows.items()])
    for report in reports.values():
        for url in report.now_empty:
            print(f"now empty, kept: {url}")
        for url, twin in report.same_text_as.items():
            print(f"same text as {twin}, skipped: {url}")
        for url, reason in report.extraction_fails.items():
            print(f"extraction fails, kept: {url}: {reason}")
        for url in report.now_stored:
            print(f"failed page now stored: {url}")
        for url, reason in report.still_failing.items():
            print(f"failed page still failing, kept: {url}: {reason}")
        for reason in report.damaged.values():  # (the reason names the URL)
            print(f"damaged, kept: {reason}")
    if dry_run:
        print("dry run: nothing was changed")
