"""Extraction speed: newscrawl's extract() against plain trafilatura on the same pages.

Both run over every recorded article page (with the site's rules), or over the real
pages of bench/quality.py's folders given after ROUNDS (generic extraction, no rules),
interleaved page by page so that machine noise hits both alike; the ratio is what to
compare between runs. An untimed first round over the pages takes the one-time costs (imports
done on first use, such as dateparser's, caches filled) off whichever extractor meets them
first, and the time counted is the process's CPU time, which other processes on a busy
machine do not add to.
Usage: make bench  (or .venv/bin/python bench/extraction.py [ROUNDS [DIR ...]])
"""

import json
import sys
import time
from pathlib import Path

import trafilatura

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crawler.extract import SiteRules, extract  # noqa: E402
from tests.fixture_sites import article_pages, spider_class  # noqa: E402


def real_pages(folders: list[str]) -> list[tuple[bytes, str, SiteRules]]:
    """The pages of bench/quality.py's folders: NAME.html beside NAME.json, which gives the URL."""
    pages = []
    for truth in sorted(path for folder in folders for path in Path(folder).glob("*.json")):
        if truth.with_suffix(".html").exists():
            url = json.loads(truth.read_text(encoding="utf-8")).get("url") or ""
            pages.append((truth.with_suffix(".html").read_bytes(), url, SiteRules()))
    return pages


def main(rounds: int, folders: list[str]) -> None:
    pages = real_pages(folders) if folders else [
        (page.html(), page.recorded.url, spider_class(page.site).extraction_rules) for page in article_pages()]
    for html, url, rules in pages:  # warm-up
        extract(html, url, rules)
        trafilatura.extract(html, url=url, with_metadata=True)
    ours = plain = 0.0
    for _ in range(rounds):
        for html, url, rules in pages:  # page by page, so that a busy machine slows both alike
            started = time.process_time()
            extract(html, url, rules)
            ours += time.process_time() - started
            started = time.process_time()
            trafilatura.extract(html, url=url, with_metadata=True)
            plain += time.process_time() - started
    count = len(pages) * rounds
    print(f"{len(pages)} pages x {rounds} rounds")
    print(f"newscrawl extract     {count / ours:8.1f} pages per CPU second")
    print(f"plain trafilatura     {count / plain:8.1f} pages per CPU second")
    print(f"ratio (ours / plain)  {plain / ours:8.2f}x the speed of plain trafilatura")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20, sys.argv[2:])
