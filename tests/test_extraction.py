"""Extraction on every recorded article page: golden files and the quality gate."""

import json
from pathlib import Path

import pytest

from tests.fixture_sites import article_pages, as_golden, quality_gate, site_names

FLOORS = json.loads((Path(__file__).parent / "quality_floors.json").read_text())


@pytest.mark.parametrize("page", article_pages(), ids=lambda page: page.id)
def test_article_matches_golden_file(page):
    assert page.golden_path.exists(), f"no golden file; run `make goldens` and review {page.golden_path}"
    expected = json.loads(page.golden_path.read_text(encoding="utf-8"))
    assert as_golden(page.extract(), page.recorded.url) == expected


def test_quality_gate_precision_and_recall_stay_above_floors():
    gate = quality_gate(site_names())
    print(f"quality gate: {gate}")
    assert gate.precision >= FLOORS["precision"]
    assert gate.recall >= FLOORS["recall"]


def test_every_site_has_pages_in_the_gate():
    assert len(site_names()) == 5
    for site in site_names():
        assert len(article_pages(site)) >= 5, site
