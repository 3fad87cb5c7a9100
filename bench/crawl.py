"""Crawl speed: a replayed crawl against a plain single-process trafilatura loop.

Generates a synthetic news site in the recording format (crawler/recordings.py)
in a temporary folder: N article pages of distinct text (English and Chinese,
CMS markup as the sites newscrawl crawls have it) behind list pages of 50 links.
Then, in one run, it times

- the crawl: `newscrawl crawl bench --replay` into a fresh store, a subprocess,
  wall and CPU time of it and every process it starts (the extraction pool);
- the loop: `trafilatura.extract(html, url=url, with_metadata=True)` over the same
  article pages, one process, one page after the other; half of them before the
  crawl and half after, as this machine's speed drifts within minutes;

and prints both throughputs (articles per second of wall time), their ratio, how
long reading commands take on the crawled store (best of three), the cores the
crawl kept busy (CPU seconds / wall seconds), its peak RSS (the proportional
set size summed over its processes, sampled twice a second), and what the
machine's cores gave just before and after (bench/machine.py).

Usage: make bench  (or .venv/bin/python bench/crawl.py [--n 5000] [--loop-sample K] [--keep])
Target (2 cores): crawl >= 2.5x the loop; peak RSS < 400 MB at 50,000 pages.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from machine import capacity_line, parallel_capacity  # bench/, this script's folder

ROOT = Path(__file__).resolve().parent.parent
HOST = "https://news.bench.example"
LINKS_PER_LIST = 50

# Distinct texts: two stories share a few stock phrases, as real ones do, and little else.
_WORDS = ("project plan meeting market water energy road school hospital village factory budget report river "
          "bridge station farm harvest export import policy reform training contract safety quality office "
          "province county district city bureau committee union company group board member expert worker "
          "student teacher doctor engineer farmer driver resident visitor official leader partner supplier "
          "customer investor network platform system service product price cost revenue profit growth loan "
          "credit tax rule law standard audit review survey study test trial pilot launch opening campaign "
          "exhibition forum conference seminar workshop course lecture ceremony award prize medal record "
          "season winter summer spring autumn morning evening week month year decade century history future "
          "north south east west central coastal rural urban local national regional global digital green "
          "new old large small major minor public private joint early late first second third final").split()
_CHARACTERS = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说"
               "产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
               "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看"
               "原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员"
               "革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区")


def english_text(rng: random.Random, paragraphs: int) -> list[str]:
    def sentence() -> str:
        words = [rng.choice(_WORDS) for _ in range(rng.randint(10, 22))]
        return f"{words[0].title()} {' '.join(words[1:])}, {rng.randint(3, 4000)} in total."
    return [" ".join(sentence() for _ in range(rng.randint(4, 7))) for _ in range(paragraphs)]


def chinese_text(rng: random.Random, paragraphs: int) -> list[str]:
    def sentence() -> str:
        return "".join(rng.choice(_CHARACTERS) for _ in range(rng.randint(15, 40))) + f"，共{rng.randint(2, 900)}人。"
    return ["".join(sentence() for _ in range(rng.randint(4, 7))) for _ in range(paragraphs)]


def article_html(number: int, rng: random.Random) -> tuple[str, str]:
    """(URL, HTML) of article `number`: a CMS template with menus, a date line and a body."""
    day = f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    url = f"{HOST}/news/{day[:7]}/art_{number}.html"
    chinese = number % 3 == 0
    paragraphs = (chinese_text if chinese else english_text)(rng, rng.randint(5, 9))
    title = (paragraphs[0][:24] if chinese else paragraphs[0].split(",")[0])
    menu = "".join(f'<li><a href="/col/{i}/">{"栏目" if chinese else "Section"} {i}</a></li>' for i in range(30))
    body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
    html = f"""<!DOCTYPE html>
<html lang="{'zh-CN' if chinese else 'en'}"><head><meta charset="utf-8">
<title>{title} - News - Bench Group</title>
<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{day} 09:30">
<meta name="ContentSource" content="{'办公室' if chinese else 'General Office'}">
<link rel="stylesheet" href="/css/main.css"><script src="/js/jquery.js"></script></head>
<body><div class="header"><div class="logo"><img src="/img/logo.png" alt="logo"></div>
<ul class="menu">{menu}</ul></div>
<div class="location">{'当前位置' if chinese else 'You are here'}: <a href="/">Home</a> &gt; <a href="/news/">News</a></div>
<div class="article"><h1>{title}</h1>
<div class="info">{'发布时间' if chinese else 'Date'}: {day} {'来源' if chinese else 'Source'}: {'办公室' if chinese else 'General Office'}</div>
<div class="TRS_Editor">{body}</div>
<div class="share">Share to: WeChat Weibo</div></div>
<div class="footer"><ul class="links">{menu}</ul><p>Copyright 2024 Bench Group. All rights reserved.</p></div>
</body></html>
"""
    return url, html


def list_html(page: int, pages: int, links: list[str]) -> str:
    items = "".join(f'<li><a href="{url}">Article {url.rsplit("_", 1)[-1]}</a></li>' for url in links)
    pager = "".join(f'<a href="{list_url(i)}">{i + 1}</a> ' for i in range(max(0, page - 2), min(pages, page + 3)))
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>News</title></head><body>"
            f"<ul class='news'>{items}</ul><div class='pager'>{pager}</div></body></html>")


def list_url(page: int) -> str:
    return f"{HOST}/news/" if page == 0 else f"{HOST}/news/list_{page}.html"


def generate(folder: Path, n: int) -> list[tuple[str, Path]]:
    """Writes the recording (manifest.json, pages/) and a sites file; returns the articles' (URL, body file)."""
    rng = random.Random(9)
    pages = folder / "bench" / "pages"
    pages.mkdir(parents=True)
    responses, articles = [], []
    html_type = {"Content-Type": "text/html; charset=utf-8"}

    def add(url: str, name: str, body: str, headers: dict) -> Path:
        (pages / name).write_text(body, encoding="utf-8")
        responses.append({"url": url, "status": 200, "headers": headers, "body": f"pages/{name}"})
        return pages / name

    add(f"{HOST}/robots.txt", "robots.txt", "User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"})
    for number in range(n):
        url, html = article_html(number, rng)
        articles.append((url, add(url, f"art_{number}.html", html,
                                  {**html_type, "ETag": f'"a{number}"',
                                   "Last-Modified": "Mon, 01 Jul 2024 08:00:00 GMT"})))
    list_count = (n + LINKS_PER_LIST - 1) // LINKS_PER_LIST
    for page in range(list_count):
        links = [url for url, _ in articles[page * LINKS_PER_LIST:(page + 1) * LINKS_PER_LIST]]
        add(list_url(page), f"list_{page}.html", list_html(page, list_count, links), html_type)
    manifest = {"site": "bench", "responses": responses}
    (folder / "bench" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "sites.toml").write_text(
        f'[sites.bench]\nstart_url = "{list_url(0)}"\n'
        "article_pattern = '/news/\\d{4}-\\d{2}/art_\\d+\\.html$'\n"
        "page_pattern = '/news/(list_\\d+\\.html)?$'\n", encoding="utf-8")
    return articles


class TreeRss(threading.Thread):
    """Samples the summed resident memory of a process and its descendants (every
    MEMORY_SAMPLE_SECONDS), and the process's own CPU time (every CPU_SAMPLE_SECONDS)."""

    # The kernel walks a process's page tables to tell its proportional set size: 5 ms for a
    # crawl's process. Read 20 times a second for three processes, that took a third of a core
    # from the crawl it measured; twice a second it takes 3% of one, and memory grows slowly.
    MEMORY_SAMPLE_SECONDS, CPU_SAMPLE_SECONDS = 0.5, 0.05

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.done = pid, 0, threading.Event()
        self.main_cpu = 0.0  # CPU seconds of the crawl's own process (not its workers), as last seen

    def run(self) -> None:
        ticks_per_sample = round(self.MEMORY_SAMPLE_SECONDS / self.CPU_SAMPLE_SECONDS)
        tick = 0
        while not self.done.wait(self.CPU_SAMPLE_SECONDS):
            if tick % ticks_per_sample == 0:
                self.peak = max(self.peak, sum(_rss(pid) for pid in _tree(self.pid)))
            self.main_cpu = _cpu(self.pid) or self.main_cpu
            tick += 1


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _rss(pid: int) -> int:
    """The process's proportional set size: pages it shares with its fork server count once in the sum."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def time_crawl(folder: Path) -> dict:
    store = folder / "store" / "articles.db"
    store.parent.mkdir()
    command = [sys.executable, "-m", "crawler.cli", "crawl", "bench", "--replay", str(folder),
               "--sites-file", str(folder / "sites.toml"), "--db", f"sqlite:///{store}", "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = TreeRss(process.pid)
    sampler.start()
    out, err = process.communicate()
    wall = time.perf_counter() - started
    sampler.done.set()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0:
        sys.exit(f"the crawl failed ({process.returncode}):\n{err[-3000:]}")
    summary = json.loads(out)[0]
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "main_cpu": sampler.main_cpu, "rss": sampler.peak, "articles": summary["new"],
            "errors": summary["errors"], "db_bytes": store.stat().st_size,
            "cache_bytes": sum(path.stat().st_size for path in store.parent.rglob("*") if path.is_file())
            - store.stat().st_size}


def time_commands(folder: Path) -> dict[str, float]:
    """Best of three wall times of reading commands on the crawled store: how quickly they start."""
    db = f"sqlite:///{folder / 'store' / 'articles.db'}"
    commands = {"--help": ["--help"], "stats": ["stats", "--db", db], "search": ["search", "committee", "--db", db],
                "show": ["show", "1", "--db", db], "export": ["export", "--until", "1900-01-01", "--db", db],
                "sites": ["sites"]}
    best = {}
    for name, arguments in commands.items():
        times = []
        for _ in range(3):
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "crawler.cli", *arguments], cwd=ROOT, check=True,
                           stdout=subprocess.DEVNULL)
            times.append(time.perf_counter() - started)
        best[name] = min(times)
    return best


def time_loop(articles: list[tuple[str, Path]]) -> dict:
    import trafilatura

    started, cpu_started = time.perf_counter(), time.process_time()
    for url, path in articles:
        trafilatura.extract(path.read_text(encoding="utf-8"), url=url, with_metadata=True)
    return {"wall": time.perf_counter() - started, "cpu": time.process_time() - cpu_started}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=5000, help="article pages of the synthetic site (default 5000)")
    parser.add_argument("--loop-sample", type=int, metavar="K",
                        help="time the plain loop on K of the pages only (its rate is per page)")
    parser.add_argument("--keep", action="store_true", help="keep the generated site and store, print where")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="newscrawl-bench-"))
    try:
        articles = generate(folder, args.n)
        sample = articles[:args.loop_sample] if args.loop_sample else articles
        capacity = {"before the crawl": parallel_capacity()}
        # the machine's speed drifts within minutes: a drift during the crawl weighs on the loop too
        loop_before = time_loop(sample[:len(sample) // 2])
        crawl = time_crawl(folder)
        if crawl["articles"] != args.n:  # a crawl cut short (a cap, a trap rule) is not the one to time
            sys.exit(f"the crawl stored {crawl['articles']} of the site's {args.n} articles: not comparable")
        commands = time_commands(folder)
        loop_after = time_loop(sample[len(sample) // 2:])
        capacity["after"] = parallel_capacity()
        loop = {name: loop_before[name] + loop_after[name] for name in ("wall", "cpu")}
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(folder)], check=False)
        else:
            print(f"kept in {folder}")
    crawl_rate = crawl["articles"] / crawl["wall"]
    loop_rate = len(sample) / loop["wall"]
    print(f"crawl bench: {args.n} article pages, {os.cpu_count()} cores")
    print(f"{'':22}{'articles/s':>11}{'wall s':>9}{'CPU s':>9}{'cores busy':>11}{'ms CPU/article':>15}")
    print(f"{'newscrawl crawl':22}{crawl_rate:11.1f}{crawl['wall']:9.1f}{crawl['cpu']:9.1f}"
          f"{crawl['cpu'] / crawl['wall']:11.2f}{1000 * crawl['cpu'] / max(crawl['articles'], 1):15.2f}")
    print(f"{'plain trafilatura loop':22}{loop_rate:11.1f}{loop['wall']:9.1f}{loop['cpu']:9.1f}"
          f"{loop['cpu'] / loop['wall']:11.2f}{1000 * loop['cpu'] / len(sample):15.2f}")
    print(f"stored {crawl['articles']} of {args.n} articles, {crawl['errors']} errors; "
          f"store {crawl['db_bytes'] / 2**20:.0f} MB, HTTP cache {crawl['cache_bytes'] / 2**20:.0f} MB")
    main_ms = 1000 * crawl["main_cpu"] / max(crawl["articles"], 1)
    cores = os.cpu_count() or 1
    # the crawl's own process is one core's work, the rest spreads over the others
    bound = 1000 / max(main_ms, 1000 * crawl["cpu"] / max(crawl["articles"], 1) / cores)
    print(f"crawl's own process    {main_ms:8.2f} ms CPU/article (the rest in its workers); on {cores} idle cores "
          f"at most {bound:.0f} articles/s, {bound * loop['cpu'] / len(sample):.2f}x the loop's "
          "CPU-bound rate")
    print(f"peak RSS of the crawl  {crawl['rss'] / 2**20:8.0f} MB (all its processes)")
    print("command start (s)      " + "  ".join(f"{name} {seconds:.2f}" for name, seconds in commands.items()))
    print(f"this machine           {capacity_line(capacity)}")
    print(f"ratio (crawl / loop)   {crawl_rate / loop_rate:8.2f}x the plain loop's throughput")


if __name__ == "__main__":
    main()
