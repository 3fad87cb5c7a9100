"""newscrawl sites"""

from crawler import runner
from crawler.commands.common import add_json_option, add_sites_file_option, print_json, spider_class, use_sites_file

HELP = "list the sites (spider modules and sites-file entries) and their start URLs"


def add_arguments(parser) -> None:
    add_sites_file_option(parser)
    add_json_option(parser)


def run(args) -> int:
    settings = runner.project_settings()
    use_sites_file(settings, args.sites_file)
    sites = {name: spider_class(name, settings).start_urls for name in runner.site_names(settings)}
    if args.json:
        print_json([{"site": name, "start_urls": urls} for name, urls in sites.items()])
    else:
        for name, urls in sites.items():
            print(f"{name:<10} {' '.join(urls)}")
    return 0
