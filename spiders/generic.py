"""Any news column without a module of its own: a start URL and link patterns are enough.

`newscrawl crawl generic --start-url URL --article-pattern REGEX` and each
[sites.NAME] entry of a sites file (crawler/sites.py) get their spider here. It
has no site rules: crawler/extract.py finds the body, the date line and the
title from what the site's CMS marks, and trafilatura reads pages that mark none.
"""

from __future__ import annotations

import re

from crawler.urls import is_http_url, on_site
from spiders.base import NewsSpider
from spiders.cms_lists import JsonList


class GenericSpider(NewsSpider):
    """Nameless, so never listed as a site itself: each site is a subclass made by for_site()."""

    @classmethod
    def for_site(cls, name: str, start_urls: list[str], article_pattern: str, page_pattern: str = "",
                 allowed_domains: list[str] | None = None, feed_urls: list[str] = (),
                 sitemap_urls: list[str] = (), json_list: JsonList | None = None) -> type[GenericSpider]:
        """The spider class a site module would declare; ValueError says which argument is wrong.

        It needs start URLs (news lists) with an article pattern, or feed or sitemap URLs, whose
        entries are all articles unless an article pattern is given (spiders/sources.py)."""
        for what, urls in (("start URL", start_urls), ("feed URL", feed_urls), ("sitemap URL", sitemap_urls)):
            for url in urls:
                if not is_http_url(url):
                    raise ValueError(f"{what} {url!r} is not an http(s) URL")
                if not on_site(url, allowed_domains):  # Scrapy would drop its request without a word
                    raise ValueError(f"{what} {url!r} is outside the allowed domains ({', '.join(allowed_domains)})")
        if not (start_urls or feed_urls or sitemap_urls):
            raise ValueError("a site needs a start URL, a feed or a sitemap")
        if start_urls and not article_pattern:
            raise ValueError("the article pattern is empty: it would take every link of the start page for an article")
        for what, pattern in (("article pattern", article_pattern), ("page pattern", page_pattern)):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"{what} {pattern!r} is not a valid regular expression: {exc}") from None
        declared = {"allowed_domains": allowed_domains} if allowed_domains else {}
        return type(f"{cls.__name__}[{name}]", (cls,), {
            "name": name, "start_urls": list(start_urls), "article_links": article_pattern or "",
            "list_links": page_pattern, "feed_urls": list(feed_urls), "sitemap_urls": list(sitemap_urls),
            "json_list": json_list, **declared,
        })
