"""China National Bluestar (ChemChina, now Sinochem Holdings), English site: Bluestar News."""

from crawler.extract import SiteRules
from spiders.base import NewsSpider


class BluestarSpider(NewsSpider):
    name = "bluestar"
    # the domain is not verified against the live site
    start_urls = ["http://www.chinabluestar.com/lanxingen/xwymt/hhxw/index.htm"]
    article_links = r"/lanxingen/xwymt/hhxw/webinfo/\d{4}/\d{2}/\d+\.htm$"
    list_links = r"/lanxingen/xwymt/hhxw/index(?:_\d+)?\.htm$"
    list_area = "div.list_news"
    list_dates = ("div.list_news li", "span.date")
    extraction_rules = SiteRules(
        title="td.con_title",
        # "Source: ChemChina Date: 2022-01-25"; the footer's "publishdate:" and the
        # publishdate meta tag are the page's generation time, not the article's date
        byline="td.con_info",
        body="#zoom",
    )
