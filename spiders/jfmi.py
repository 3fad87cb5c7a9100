"""JFMI (Jinan Foundry and Metalforming Machinery Research Institute, SINOMACH),
English site on TRS WCM: Party Building Trends."""

from crawler.extract import SiteRules
from spiders.base import NewsSpider


class JfmiSpider(NewsSpider):
    name = "jfmi"
    # the domain is not verified against the live site
    start_urls = ["http://www.jfmi.com.cn/en_/NewsInformation/PartyBuildingTrends/index.html"]
    # the URL's month folder is the publishing date, not the article's: "Pubtime:" wins
    article_links = r"/en_/NewsInformation/PartyBuildingTrends/\d{6}/t\d{8}_\d+\.html$"
    list_links = r"/en_/NewsInformation/PartyBuildingTrends/index(?:_\d+)?\.html$"
    list_dates = ("table.list tr", "td.list_date")
    extraction_rules = SiteRules(
        title="td.title",
        byline="td.time",  # "Pubtime:2016-07-27" then the Big/Middle/Small switch
        body="div.TRS_Editor",
    )
