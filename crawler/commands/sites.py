"""newscrawl sites"""

import importlib.util
import os
import pkgutil
import tomllib
from pathlib import Path

from crawler.commands.common import add_json_option, add_sites_file_option, print_json, spider_class, use_sites_file
from crawler.literals import NOT_LITERAL, class_literals, module_literals

HELP = "list the sites (spider modules and sites-file entries) and their start URLs"


def add_arguments(parser) -> None:
    add_sites_file_option(parser)
    add_json_option(parser)


def run(args) -> int:
    sites = None if args.sites_file else declared_sites()
    if sites is None:
        sites = loaded_sites(args.sites_file)
    if args.json:
        print_json([{"site": name, "start_urls": urls} for name, urls in sites.items()])
    else:
        for name, urls in sites.items():
            print(f"{name:<10} {' '.join(urls)}")
    return 0


def loaded_sites(sites_file: str | None) -> dict[str, list[str]]:
    """Every site's start URLs, by name, from Scrapy's spider loader: its spider class, imported."""
    from crawler import runner

    settings = runner.project_settings()
    use_sites_file(settings, sites_file)
    return {name: spider_class(name, settings).start_urls for name in runner.site_names(settings)}


def declared_sites() -> dict[str, list[str]] | None:
    """loaded_sites() without importing a spider (a tenth of the time): every site's start URLs, by
    name, as the spider modules declare them. None when the sites file has entries or a spider's
    name or start URLs are not literals: then only the spider loader can tell."""
    settings = module_literals(os.environ.get("SCRAPY_SETTINGS_MODULE", "crawler.settings"))
    packages, sites_file = settings.get("SPIDER_MODULES", []), settings.get("NEWSCRAWL_SITES_FILE", "")
    if NOT_LITERAL in (packages, sites_file):
        return None
    try:
        if Path(sites_file).is_file() and tomllib.loads(Path(sites_file).read_text(encoding="utf-8")).get("sites"):
            return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None  # the spider loader says what is wrong with it
    sites = {}
    for module in _modules(packages):
        for declared in class_literals(module).values():
            if "name" not in declared:
                continue  # a base class: Scrapy lists spiders with a name only
            name, start_urls = declared["name"], declared.get("start_urls", NOT_LITERAL)
            if NOT_LITERAL in (name, start_urls):
                return None
            sites[name] = list(start_urls)
    return dict(sorted(sites.items()))


def _modules(packages: list[str]) -> list[str]:
    """Every module SPIDER_MODULES names, and every module in the packages it names, as Scrapy walks them."""
    modules = []
    for package in packages:
        modules.append(package)
        locations = importlib.util.find_spec(package).submodule_search_locations
        modules += [info.name for info in pkgutil.walk_packages(locations or [], prefix=f"{package}.")]
    return modules
