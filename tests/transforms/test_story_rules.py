"""Story rules: kinds of duplicates, related titles, stable story ids."""

from __future__ import annotations

from transforms.ids import to_story_id
from transforms.stories import Edge, assign_stories, is_related, title_similarity, to_kind, to_site


def test_kinds() -> None:
    assert to_kind(True, "a.com", "b.com") == "updated"
    assert to_kind(False, "a.com", "a.com") == "same_page"
    assert to_kind(False, "a.com", "b.com", "https://a.com/x", "https://a.com/x") == "same_page"
    assert to_kind(False, "a.com", "b.com") == "syndicated"
    assert to_kind(False, None, None) == "syndicated"
    assert to_site("https://www.a.com/x?y", None, "A") == "a.com"
    assert to_site(None, None, " The Daily ") == "the daily"


def test_related_needs_title_entities_and_time() -> None:
    score = title_similarity("Floods hit Valencia as storm moves east", "Storm floods Valencia, moves east")
    assert score >= 0.3
    assert is_related(score, 2, 5.0)
    assert not is_related(score, 1, 5.0) and not is_related(score, 2, 72.0) and not is_related(0.1, 3, 1.0)


def test_new_articles_join_existing_stories_and_new_groups_get_a_stable_id() -> None:
    stories = {"old1": "s-old"}
    edges = [Edge("n1", "old1", "related", 0.4), Edge("n2", "n1", "duplicate", 0.9), Edge("n3", "n4", "duplicate", 0.8)]
    got = assign_stories(["n1", "n2", "n3", "n4", "n5", "old1"], stories, edges)
    assert got["n1"][0] == got["n2"][0] == "s-old"
    assert got["n3"][0] == got["n4"][0] == to_story_id(["n3"])
    assert got["n3"][1] == "first" and got["n4"][1] == "duplicate"
    assert got["n5"] == (to_story_id(["n5"]), "first")
    assert "old1" not in got
    assert assign_stories(["n3", "n4"], {}, list(reversed(edges))) == {k: got[k] for k in ("n3", "n4")}


def test_duplicate_evidence_wins_over_related() -> None:
    got = assign_stories(["n"], {"a": "s-a", "b": "s-b"},
                         [Edge("n", "a", "related", 0.9), Edge("b", "n", "duplicate", 0.6)])
    assert got["n"] == ("s-b", "duplicate")
