"""Extraction on every recorded article page: golden files and the quality gate."""

import json
from pathlib import Path

import pytest

from tests.fixture_sites import article_pages, as_golden, quality, site_names

FLOORS = json.loads((Path(__file__).parent / "quality_floors.json").read_text())


@pytest.mark.parametrize("page", article_pages(), ids=lambda page: page.id)
def test_article_matches_golden_file(page):
    assert page.golden_path.exists(), f"no golden file; run `make goldens` and review {page.golden_path}"
    expected = json.loads(page.golden_path.read_text(encoding="utf-8"))
    assert as_golden(page.extract(), page.recorded.url) == expected


def _folded(text: str) -> str:
    return " ".join(text.split())


def gate_counts():
    """(found wanted, missed wanted, found unwanted, missed unwanted) over every page."""
    true_pos = false_neg = false_pos = true_neg = 0
    for site in site_names():
        gate = quality(site)
        for page in article_pages(site):
            text = _folded(page.extract().text)
            expected = gate["articles"][page.recorded.url]
            for wanted in expected["must_include"]:
                found = _folded(wanted) in text
                true_pos, false_neg = true_pos + found, false_neg + (not found)
            for unwanted in expected["must_exclude"] + gate["boilerplate"]:
                found = _folded(unwanted) in text
                false_pos, true_neg = false_pos + found, true_neg + (not found)
    return true_pos, false_neg, false_pos, true_neg


def test_quality_gate_precision_and_recall_stay_above_floors():
    true_pos, false_neg, false_pos, _ = gate_counts()
    precision = true_pos / (true_pos + false_pos)
    recall = true_pos / (true_pos + false_neg)
    print(f"quality gate: precision {precision:.3f}, recall {recall:.3f} "
          f"({true_pos} wanted found, {false_neg} missed, {false_pos} unwanted found)")
    assert precision >= FLOORS["precision"]
    assert recall >= FLOORS["recall"]


def test_every_site_has_pages_in_the_gate():
    assert len(site_names()) == 5
    for site in site_names():
        assert len(article_pages(site)) >= 5, site
