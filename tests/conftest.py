import os

# Tests run against the project settings, whatever the working directory.
os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
