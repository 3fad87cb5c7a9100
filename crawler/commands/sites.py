"""newscrawl sites"""

from crawler import runner
from crawler.commands.common import add_sites_file_option, spider_class, use_sites_file

HELP = "list the sites (spider modules and sites-file entries) and their start URLs"


def add_arguments(parser) -> None:
    add_sites_file_option(parser)


def run(args) -> int:
    settings = runner.project_settings()
    use_sites_file(settings, args.sites_file)
    for name in runner.site_names(settings):
        print(f"{name:<10} {' '.join(spider_class(name, settings).start_urls)}")
    return 0
