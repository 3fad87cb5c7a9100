"""4ll.net, a Chinese news aggregator republishing state-owned enterprise stories
(the Guangzhou Metro seed among them) in machine-translated English."""

from crawler.extract import SiteRules
from spiders.base import NewsSpider


class FourllSpider(NewsSpider):
    name = "4ll"
    start_urls = ["https://4ll.net/society/"]
    article_links = r"^https://4ll\.net/society/\d+\.html$"
    list_links = r"^https://4ll\.net/society/(?:list_\d+\.html)?$"
    list_area = "ul.news-list"  # the "Hot list" sidebar links the same articles from every page
    list_dates = ("ul.news-list li", "span.date")
    extraction_rules = SiteRules(
        title="h1.article-title",
        byline="div.article-info",  # "Author:Guangzhou state -owned enterpr Time:2022.08.02"
        # the body ends with "Source: …" and "- END -"; teasers for other stories follow
        body="#article-content",
        drop=("div.content-ad",),
    )
