"""One module per news site; the shared behaviour lives in spiders.base."""
