"""Henan Organ Party Construction Network (河南机关党建网), a provincial government
site in Chinese (GBK, declared only in a meta tag): City and County Dynamics (市县动态)."""

from crawler.extract import SiteRules
from spiders.base import NewsSpider


class HenanSpider(NewsSpider):
    name = "henan"
    start_urls = ["http://www.hnjgdj.gov.cn/sxdt/index.html"]
    # /{YYYY}/{MM-DD}/ is the publishing date, not the article's: the page's 时间 line wins
    article_links = r"/\d{4}/\d{2}-\d{2}/\d+\.html$"
    list_links = r"/sxdt/index(?:_\d+)?\.html$"
    list_dates = ("ul.list_ul li", "span.date")  # [2023-11-22]: the URL's publishing date again
    extraction_rules = SiteRules(
        title="#wz_bt",
        byline="table.wz_info",  # 时间：2022年10月12日 / 来源：… (or their English translation)
        body="#zoom .TRS_Editor",  # #zoom also holds the related-links block
    )
