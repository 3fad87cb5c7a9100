"""newscrawl record SITE [--out DIR]"""

from pathlib import Path

from crawler import runner
from crawler.commands.common import (add_settings_option, add_sites_file_option, crawl_exit_code, known_sites,
                                     report_outcomes, scrapy_log_settings, setting_overrides, use_sites_file)
from crawler.recordings import check_recording_folder

HELP = "crawl one site live and save every response as a recording"
LOGS_THROUGH_SCRAPY = True


def add_arguments(parser) -> None:
    parser.add_argument("site", metavar="SITE")
    parser.add_argument("--out", metavar="DIR", help="recording folder (default: recordings/SITE)")
    add_settings_option(parser)
    add_sites_file_option(parser)


def run(args) -> int:
    settings = runner.project_settings(overrides={**scrapy_log_settings(args), **setting_overrides(args.set)})
    use_sites_file(settings, args.sites_file)
    [site] = known_sites([args.site], settings)
    folder = Path(args.out or f"recordings/{site}")
    check_recording_folder(folder)
    runner.use_recording(settings, folder)
    [result] = runner.run_crawls([site], settings, progress=not args.quiet)
    print(f"recorded {result.counts.pages} responses of {site} into {folder} "
          f"({result.counts.errors} errors, {result.outcome.status})")
    report_outcomes([result])
    return crawl_exit_code([result])
