"""Quality gate: duplicates and stories on the labelled set built from the real texts of ../shared/data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import SHARED_DATA, shared_data

pytestmark = pytest.mark.eval


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    from evaluation.duplicates import evaluate_duplicates

    shared_data("polnear")
    return evaluate_duplicates(SHARED_DATA)


def test_pairwise_precision_and_recall(result: dict[str, Any]) -> None:
    # measured: precision 1.000, recall 0.980 (groups 1.000 / 0.9998); the floors
    assert result["pairs"]["precision"] >= 0.99, result["pairs"]
    assert result["pairs"]["recall"] >= 0.95, result["pairs"]


def test_no_false_pairs_among_the_distinct_real_pages(result: dict[str, Any]) -> None:
    assert result["texts"] >= 500
    assert result["real_false_pairs"] == 0, result["real_false_examples"]


def test_stories_b_cubed(result: dict[str, Any]) -> None:
    assert result["stories_b_cubed"]["f1"] >= 0.95, result["stories_b_cubed"]  # measured 0.9998
