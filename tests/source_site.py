"""An invented news site that publishes a feed, a news sitemap (behind robots.txt and a
sitemap index) and a news list, written as a recording that tests/loopback.py serves.

    /                   home page: <link rel=alternate> to the feed, a link to the news list
    /robots.txt         Sitemap: /sitemap_index.xml
    /sitemap_index.xml  -> /sitemap_news.xml (news sitemap: publication_date) and /sitemap_pages.xml (lastmod)
    /rss.xml            RSS 2.0, pubDate
    /news/index.html    the news list (ARTICLES' links and a pager link to /news/index_1.html)
    /news/2024/05/art_N.html, /about/contact.html (a page, not an article, in the page sitemap)
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

HOST = "news.lanshan.example"
ROOT = f"http://{HOST}"
# (number, date): art_101 .. art_106, newest first
ARTICLES = [(101 + n, date(2024, 5, 20 - 3 * n)) for n in range(6)]
ARTICLE_PATTERN = r"/news/\d{4}/\d{2}/art_\d+\.html$"
NOT_AN_ARTICLE = f"{ROOT}/about/contact.html"
IN_SITEMAP = ARTICLES[:4]  # the news sitemap lists the four newest, the feed the three newest
IN_FEED = ARTICLES[:3]


def article_url(number: int) -> str:
    return f"{ROOT}/news/2024/05/art_{number}.html"


def article_html(number: int, shown: date) -> str:
    sentences = "".join(f"<p>第{number}号通讯第{i}段：兰山区今天召开第{number}次工作会议，部署第{i}项重点任务，"
                        f"要求各部门按期完成第{number * 10 + i}号文件确定的目标。</p>" for i in range(1, 4))
    return (f'<html lang="zh"><head><meta charset="utf-8"><title>兰山区第{number}次工作会议召开_新闻_兰山区</title></head>'
            f"<body><div class=\"nav\"><a href=\"/\">首页</a> <a href=\"/news/index.html\">新闻动态</a></div>"
            f"<h1>兰山区第{number}次工作会议召开</h1><div class=\"info\">发布日期：{shown.isoformat()} 来源：兰山区政府办</div>"
            f'<div class="TRS_Editor">{sentences}</div></body></html>')


def pages() -> dict[str, tuple[str, str]]:
    """URL -> (content type, body) of every page of the site."""
    news = "".join(f'<url><loc>{article_url(n)}</loc><news:news><news:publication>'
                   f"<news:name>兰山新闻</news:name><news:language>zh</news:language></news:publication>"
                   f"<news:publication_date>{shown.isoformat()}T08:30:00+08:00</news:publication_date>"
                   f"<news:title>第{n}次工作会议</news:title></news:news></url>" for n, shown in IN_SITEMAP)
    rss_items = "".join(f"<item><title>第{n}次工作会议</title><link>{article_url(n)}</link>"
                        f"<pubDate>{shown.strftime('%a, %d %b %Y')} 08:30:00 +0800</pubDate></item>"
                        for n, shown in IN_FEED)
    listed = "".join(f'<li><a href="/news/2024/05/art_{n}.html">兰山区第{n}次工作会议召开</a> {shown}</li>'
                     for n, shown in ARTICLES)
    site = {
        f"{ROOT}/": ("text/html; charset=utf-8",
                     '<html><head><title>兰山区人民政府</title>'
                     '<link rel="alternate" type="application/rss+xml" title="新闻" href="/rss.xml"></head>'
                     '<body><a href="/news/index.html">新闻动态</a> <a href="/about/contact.html">联系我们</a>'
                     '</body></html>'),
        f"{ROOT}/robots.txt": ("text/plain", f"User-agent: *\nDisallow: /private/\nSitemap: {ROOT}/sitemap_index.xml\n"),
        f"{ROOT}/sitemap_index.xml": ("application/xml",
                                      '<?xml version="1.0" encoding="UTF-8"?>'
                                      '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                      f"<sitemap><loc>{ROOT}/sitemap_news.xml</loc></sitemap>"
                                      f"<sitemap><loc>{ROOT}/sitemap_pages.xml</loc></sitemap></sitemapindex>"),
        f"{ROOT}/sitemap_news.xml": ("application/xml",
                                     '<?xml version="1.0" encoding="UTF-8"?>'
                                     '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                                     'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                                     f"{news}</urlset>"),
        f"{ROOT}/sitemap_pages.xml": ("application/xml",
                                      '<?xml version="1.0" encoding="UTF-8"?>'
                                      '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                                      f"<url><loc>{NOT_AN_ARTICLE}</loc><lastmod>2024-01-02</lastmod></url>"
                                      f"<url><loc>{ROOT}/</loc><lastmod>2024-05-20</lastmod></url></urlset>"),
        f"{ROOT}/rss.xml": ("application/rss+xml",
                            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                            f"<title>兰山新闻</title><link>{ROOT}/</link><description>新闻</description>"
                            f"{rss_items}</channel></rss>"),
        f"{ROOT}/news/index.html": ("text/html; charset=utf-8",
                                    f'<html><body><ul class="list">{listed}</ul>'
                                    '<a href="/news/index_1.html">下一页</a> <a href="/">首页</a></body></html>'),
        f"{ROOT}/news/index_1.html": ("text/html; charset=utf-8", "<html><body><ul></ul></body></html>"),
        NOT_AN_ARTICLE: ("text/html; charset=utf-8", "<html><body><p>电话：0000-0000000</p></body></html>"),
    }
    for number, shown in ARTICLES:
        site[article_url(number)] = ("text/html; charset=utf-8", article_html(number, shown))
    return site


def write_recording(folder: Path) -> Path:
    """The site as a recording folder (tests/fixtures/README.md's format); returns folder."""
    (folder / "pages").mkdir(parents=True, exist_ok=True)
    responses = []
    for index, (url, (content_type, body)) in enumerate(pages().items()):
        name = f"pages/{index}"
        (folder / name).write_text(body, encoding="utf-8")
        responses.append({"url": url, "status": 200, "headers": {"Content-Type": content_type}, "body": name})
    (folder / "manifest.json").write_text(json.dumps({"site": HOST, "responses": responses}, ensure_ascii=False),
                                          encoding="utf-8")
    return folder
