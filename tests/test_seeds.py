"""The seed articles: exactly their paragraphs come out, and none of the boilerplate
that a careless extractor let into the seed text."""

import json
from pathlib import Path

import pytest

from tests.fixture_sites import article_pages

SEEDS = Path(__file__).parent / "seeds"
EXPECTATIONS = {name: spec for name, spec in
                json.loads((SEEDS / "seeds.json").read_text(encoding="utf-8")).items()
                if not name.startswith("_")}


def seed_lines(name: str) -> tuple[list[str], list[str]]:
    """(article body lines, every other line) of a seed file, whitespace folded."""
    spec = EXPECTATIONS[name]
    lines = [" ".join(line.split()) for line in (SEEDS / name).read_text(encoding="utf-8").splitlines()]
    lines = [line for line in lines if line]
    first = next(i for i, line in enumerate(lines) if line.startswith(spec["first_body_line"]))
    last = next(i for i, line in enumerate(lines) if line.startswith(spec["last_body_line"]))
    return lines[first:last + 1], lines[:first] + lines[last + 1:]


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_seed_article_is_extracted_exactly(name):
    [page] = [page for page in article_pages() if page.recorded.url == EXPECTATIONS[name]["url"]]
    body, boilerplate = seed_lines(name)
    article = page.extract()
    assert article.text.split("\n") == body
    for line in boilerplate:
        assert line not in article.text
    assert len(boilerplate) >= 3  # title, date line, and at least one more chrome line
