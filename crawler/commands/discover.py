"""newscrawl discover URL"""

HELP = "read a site's home page and robots.txt; print its feeds, sitemaps and news lists as a [sites.NAME] entry"


def add_arguments(parser) -> None:
    parser.add_argument("url", metavar="URL")


def run(args) -> int:
    raise NotImplementedError
