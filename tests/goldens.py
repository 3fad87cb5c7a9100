"""Rewrite the golden files beside the fixture article pages: `make goldens`.

Review every changed line (git diff tests/fixtures) before committing.
"""

import json

from tests.fixture_sites import article_pages, as_golden, generic_site_names


def main() -> None:
    for page in article_pages() + article_pages(*generic_site_names()):
        golden = as_golden(page.extract(), page.recorded.url)
        page.golden_path.write_text(json.dumps(golden, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {page.golden_path}")


if __name__ == "__main__":
    main()
