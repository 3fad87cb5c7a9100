"""newscrawl db upgrade"""

from crawler import runner
from crawler.commands.common import add_db_option
from storage import Store

HELP = "manage the store's schema"


def add_arguments(parser) -> None:
    actions = parser.add_subparsers(title="actions", metavar="ACTION", dest="action", required=True)
    upgrade = actions.add_parser("upgrade", help="bring an older store up to the current schema",
                                 description="bring an older store up to the current schema")
    add_db_option(upgrade)


def run(args) -> int:
    url = runner.project_settings(args.db)["NEWSCRAWL_DB"]
    upgraded = Store.upgrade(url)
    print(f"upgraded {url}" if upgraded else f"{url} is up to date")
    return 0
