"""BAIC ROCAR (Beijing car-services group), English site: the Party Building column."""

from crawler.extract import SiteRules
from spiders.base import NewsSpider


class RocarSpider(NewsSpider):
    name = "rocar"
    start_urls = ["https://www.rocar.net/en/menu139/"]
    article_links = r"/en/menu139/newsDetail/\d+\.html$"
    list_links = r"/en/menu139/(?:\?page=\d+)?$"
    list_area = "ul.news_list"
    list_dates = ("ul.news_list li", "div.date")  # a calendar tile: <strong>30</strong><span>2021-06</span>
    extraction_rules = SiteRules(
        title="div.detail_tit",
        byline="ul.detail_info",  # <li>2020-11-27</li><li>Source:Party Affairs Department…</li>
        body="#detailCon",
    )
