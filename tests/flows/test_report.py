"""The run report: speakers by resolved entity, top entities with a total, per-batch log lines."""

from __future__ import annotations

from flows import report
from transforms.models import Analysis, Entity, Mention, Quote, RecentRun, Reject


def _batch() -> report.BatchSummary:
    mentions = [Mention("a", i, i + 1, "x", "PERSON", name, eid)
                for i, (name, eid) in enumerate([("Ulrich Schmid", "e1")] * 3 + [("Berlin", "e2")])]
    quotes = [Quote("a", 0, 5, "...", "direct", speaker=s, speaker_entity_id=e)
              for s, e in [("he", "e1"), ("Schmid", "e1"), ("He", "e1"), ("she", None), ("She", None)]]
    analysis = Analysis(mentions, [Entity("e1", "Ulrich Schmid", "PERSON")], quotes)
    rejects = [Reject("u1", "fetch", "timeout", "t"), Reject("u2", "extract", "not_article_index", "n")]
    return report.batch_summary(64, 0, [object()] * 61, analysis, rejects, [], 0)  # type: ignore[list-item]


def test_speakers_are_counted_by_resolved_entity_and_unresolved_forms_apart() -> None:
    batch = _batch()
    assert batch.speakers == {"Ulrich Schmid": 3}
    assert batch.unresolved_speakers == {"she": 2}
    assert batch.entities.most_common() == [("Ulrich Schmid", 3), ("Berlin", 1)]


def test_batch_line_reads_as_words() -> None:
    assert report.batch_line(3, 16, _batch()) == (
        "batch 3/16: 64 read, 2 rejected (timeout 1, not_article_index 1), 61 articles, 4 mentions, 5 quotes")


def test_report_lists_top_entities_with_the_rest_counted() -> None:
    merged = report.merge([_batch()] * 2)
    merged.entities.update({f"entity {i}": 1 for i in range(30)})
    result = report.summary("r1", merged, {"articles": 122}, {"articles": 200}, {"quotes_in_text": 0, "spans": 2},
                            {"load": 1.25}, [RecentRun("r1", "2024-11-29 07:00", 122, 4, 30.0)])
    text = report.to_markdown(result)
    assert "- Ulrich Schmid: 6" in text and "Unresolved speakers (surface forms): she 4" in text
    assert f"- and {32 - report.TOP_ENTITIES} more" in text
    assert "| load | 1.2 |" in text or "| load | 1.3 |" in text
    assert "| `r1` | 2024-11-29 07:00 | 122 | 4 | 30 |" in text
    assert "failed: spans" in text
    assert report.key_numbers(result) == "+122 articles, 4 rejected, 1 checks failed"
