"""Quality gate for entities: scores on the labelled dev splits must not drop below their floors.

Floors are the issue-4 targets (CoNLL++ dev F1 >= 0.71) or, where a target is not reached
yet, the measured figure rounded down by 0.01 (see the report of the commit that pins them).
Re-measure with: python -m evaluation.entities ../shared/data/conll2003/conllpp_dev.txt
../shared/data/aida-conll-yago/dev.jsonl
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import shared_data

CONLL_F1_FLOOR = 0.71
AIDA_WITHIN_PAIRWISE_FLOOR = 0.92  # the issue-4 target; measured 0.929
AIDA_CROSS_PAIRWISE_FLOOR = 0.85  # the issue-4 target; measured 0.878
NEWS_FAIR_NAMED_WITHIN_PAIRWISE_FLOOR = 0.94  # measured 0.944 (demonym plurals now scored as their country)

def _evaluate(name: str, file: str) -> dict[str, Any]:
    from evaluation.entities import evaluate_entities

    path = shared_data(name) / file
    result = evaluate_entities([path])
    return result["files"][str(path)]  # type: ignore[no-any-return]


@pytest.mark.eval
def test_conll_dev_mention_f1() -> None:
    scores = _evaluate("conll2003", "conllpp_dev.txt")
    assert scores["documents"] == 216
    assert scores["overall"]["f1"] >= CONLL_F1_FLOOR, scores["overall"]


@pytest.mark.eval
def test_aida_dev_clustering_pairwise_f1() -> None:
    scores = _evaluate("aida-conll-yago", "dev.jsonl")["linked"]
    assert scores["mentions"] == 4789
    assert scores["within_doc"]["pairwise"]["f1"] >= AIDA_WITHIN_PAIRWISE_FLOOR, scores["within_doc"]
    assert scores["cross_doc"]["pairwise"]["f1"] >= AIDA_CROSS_PAIRWISE_FLOOR, scores["cross_doc"]


@pytest.mark.eval
def test_news_fair_dev_named_clustering() -> None:
    scores = _evaluate("news-fair", "dev.jsonl")["named"]
    assert scores["mentions"] == 168
    assert scores["within_doc"]["pairwise"]["f1"] >= NEWS_FAIR_NAMED_WITHIN_PAIRWISE_FLOOR, scores["within_doc"]


def test_cluster_scores_on_a_known_case() -> None:
    from evaluation.entities import cluster_scores

    gold = {1: "a", 2: "a", 3: "b", 4: "b"}
    assert cluster_scores(gold, gold)["pairwise"]["f1"] == 1.0
    merged = cluster_scores(gold, {1: "x", 2: "x", 3: "x", 4: "x"})
    assert merged["pairwise"]["p"] == round(2 / 6, 4) and merged["pairwise"]["r"] == 1.0
    assert merged["b3"]["r"] == 1.0 and merged["b3"]["p"] == 0.5
    split = cluster_scores(gold, {1: 1, 2: 2, 3: 3, 4: 4})
    assert split["pairwise"]["f1"] == 0.0 and split["muc"]["r"] == 0.0 and split["b3"]["p"] == 1.0


def test_eval_entities_without_scipy_is_one_line_with_the_remedy(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """`pip install .` has no scipy (it is the `eval` extra's): the command says so in one line, exit 2."""
    import sys

    from flows.cli import main

    for name in [m for m in sys.modules if m == "scipy" or m.startswith("scipy.") or m == "evaluation.entities"]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "scipy", None)  # import scipy now fails as when it is not installed
    conll = tmp_path / "dev.txt"
    conll.write_text("EU B-ORG\n", encoding="utf-8")
    assert main(["eval", "entities", str(conll)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["newsdesk: newsdesk eval entities needs scipy, which is not installed: "
                   "pip install 'newsdesk[eval]' (or pip install scipy)"], err
