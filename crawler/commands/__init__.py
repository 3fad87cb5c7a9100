"""One module per `newscrawl` command, as in Scrapy's own scrapy/commands/.

Each module has ``HELP`` (one line), ``add_arguments(parser)`` and ``run(args)``
returning the exit code; crawler/cli.py lists them in COMMANDS.
"""
