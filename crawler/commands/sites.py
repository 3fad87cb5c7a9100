"""newscrawl sites"""

from crawler import runner
from crawler.commands.common import spider_class

HELP = "list the sites (spiders) and their start URLs"


def add_arguments(parser) -> None:
    pass


def run(args) -> int:
    settings = runner.project_settings()
    for name in runner.site_names(settings):
        print(f"{name:<10} {' '.join(spider_class(name, settings).start_urls)}")
    return 0
