"""Quotes: speakers, cues, indirect speech, and the seed's golden quotes (the marks: test_quote_marks.py)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transforms.entities import extract_entities
from transforms.models import Article, Quote, to_article_id, to_content_hash
from tests.golden.records import REGENERATE
from transforms.quote_marks import find_quote_spans
from transforms.quotes import extract_quotes

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "seed_quotes.json"


def _article(text: str) -> Article:
    return Article(to_article_id(f"test:{text[:40]}"), to_content_hash(text), "test", "test", text)


def _quotes(nlp, text: str) -> tuple[list[Quote], dict[str, str]]:  # type: ignore[no-untyped-def]
    article = _article(text)
    doc = nlp(text)
    mentions, entities = extract_entities([doc], [article])
    return extract_quotes(doc, article, mentions), {e.entity_id: e.name for e in entities}


# --- speakers ------------------------------------------------------------------------


def test_said_x_and_x_said(nlp) -> None:  # type: ignore[no-untyped-def]
    quotes, names = _quotes(nlp, "“We will win this election,” said Maria Lopez.\n\nJohn Smith said: “We will not.”")
    direct = [q for q in quotes if q.kind == "direct"]
    assert [(q.text, q.speaker, names.get(q.speaker_entity_id or "")) for q in direct] == [
        ("“We will win this election,”", "Maria Lopez", "Maria Lopez"),
        ("“We will not.”", "John Smith", "John Smith"),
    ]
    assert direct[0].cue_lemma == "say" and direct[0].text == direct[0].text.strip()


def test_pronoun_speaker_points_at_the_person(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "Senator Anna Berg spoke in Boston on Monday.\n\n“The bill is dead,” she said."
    quotes, names = _quotes(nlp, text)
    quote = next(q for q in quotes if q.kind == "direct")
    assert quote.speaker == "she"
    assert names[quote.speaker_entity_id or ""] == "Anna Berg"


def test_carry_over_and_unnamed_speaker(nlp) -> None:  # type: ignore[no-untyped-def]
    text = (
        "“Prices will rise,” said Peter Novak, an economist at the bank. The bank has cut its forecast.\n\n"
        "“Nobody can stop that now.”\n\n"
        "Inflation is high, a senior official said."
    )
    quotes, names = _quotes(nlp, text)
    carried = next(q for q in quotes if q.text.startswith("“Nobody"))
    assert carried.method == "carry_over" and carried.confidence < 0.9
    assert names[carried.speaker_entity_id or ""] == "Peter Novak"
    official = next(q for q in quotes if q.kind == "indirect")
    assert (official.text, official.speaker, official.speaker_entity_id) == (
        "Inflation is high",
        "a senior official",
        None,
    )


def test_quote_after_its_attribution_continues_it(nlp) -> None:  # type: ignore[no-untyped-def]
    quotes, names = _quotes(nlp, "“Prices will rise,” said Peter Novak. “Nobody can stop that now.”")
    assert [(q.method, q.cue) for q in quotes] == [("cue_in_sentence", "said"), ("continuation", "said")]
    assert {names[q.speaker_entity_id or ""] for q in quotes} == {"Peter Novak"}


def test_quote_resumed_after_a_titled_speaker_is_one_quotation(nlp) -> None:  # type: ignore[no-untyped-def]
    text = 'The plan drew fire. "We can do some of it alone," Mr. Novak said. "But not the rest of it."'
    quotes, _ = _quotes(nlp, text)
    assert [(q.kind, q.method, q.cue) for q in quotes] == [
        ("direct", "cue_in_sentence", "said"),
        ("direct", "continuation", "said"),
    ]


def test_quote_interrupted_by_its_cue_stays_direct(nlp) -> None:  # type: ignore[no-untyped-def]
    text = '"By signing the deal," Ms. Berg said, "we let the others follow."'
    quotes, _ = _quotes(nlp, text)
    assert [q.kind for q in quotes] == ["direct", "direct"]
    assert quotes[0].cue_start == quotes[1].cue_start


def test_double_apostrophe_quotes_are_direct(nlp) -> None:  # type: ignore[no-untyped-def]
    quotes, _ = _quotes(nlp, "''This is no reform,'' said Anna Berg, an economist. ''It is a tax.''")
    assert [(q.kind, q.speaker) for q in quotes] == [("direct", "Anna Berg, an economist")] * 2


def test_cue_is_the_verb_group_and_stance_verbs_attribute(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "Senator Anna Berg has also said that the bill is dead.\n\nThe union endorsed Peter Novak on Monday."
    quotes, _ = _quotes(nlp, text)
    assert [(q.cue, q.text, q.speaker) for q in quotes] == [
        ("has also said", "that the bill is dead", "Senator Anna Berg"),
        ("endorsed", "Peter Novak", "The union"),
    ]


def test_relative_pronoun_is_the_source_and_points_at_the_person(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "The vote was delayed by Peter Novak, who said the count was wrong."
    quotes, names = _quotes(nlp, text)
    quote = next(q for q in quotes if q.cue == "said")
    assert (quote.speaker, quote.text) == ("who", "the count was wrong")
    assert names[quote.speaker_entity_id or ""] == "Peter Novak"


def test_scare_quote_is_not_a_quotation(nlp) -> None:  # type: ignore[no-untyped-def]
    quotes, _ = _quotes(nlp, "The so-called “reform” passed the house on Tuesday.")
    assert quotes == []


def test_according_to_and_mixed(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "According to Maria Lopez, the deal is off.\n\nThe ministry said that the plan was “dead on arrival” for now."
    quotes, names = _quotes(nlp, text)
    kinds = {q.kind: q for q in quotes}
    assert kinds["indirect"].text == "the deal is off" and kinds["indirect"].cue == "According to"
    assert names[kinds["indirect"].speaker_entity_id or ""] == "Maria Lopez"
    assert kinds["mixed"].text.startswith("that the plan was “dead on arrival”")
    assert kinds["partial"].text == "“dead on arrival”" and kinds["partial"].speaker == "The ministry"


# --- the seed article -----------------------------------------------------------------


def _records(nlp, article: Article) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    from tests.golden.records import quote_records

    return quote_records(nlp, article)


def test_seed_golden(nlp, seed_article) -> None:  # type: ignore[no-untyped-def]
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    got = _records(nlp, seed_article)
    assert got == expected, f"seed quotes differ from {GOLDEN}; if the change is intended, run `{REGENERATE} quotes`"


def test_seed_direct_quotes_and_speakers(nlp, seed_article) -> None:  # type: ignore[no-untyped-def]
    records = _records(nlp, seed_article)  # the exact quotes are the golden file's (test_seed_golden)
    quoted = [r for r in records if r["kind"] in ("direct", "partial")]
    assert len(quoted) >= 8 and all(r["speaker_canonical"] for r in quoted), quoted  # every marked quote has its speaker
    assert not any("rocky" in str(r["text"]) for r in records)


# --- properties -----------------------------------------------------------------------

_ALPHABET = st.sampled_from(list("ab Z.,:;-—\n'\"“”‘’«»„5") + ["said", " he ", "Anna", "according to "])


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_ALPHABET, max_size=40).map("".join))
def test_any_text_gives_valid_spans(nlp, text: str) -> None:  # type: ignore[no-untyped-def]
    for span in find_quote_spans(text):
        assert 0 <= span.start < span.end <= len(text)
    quotes, _ = _quotes(nlp, text)
    for quote in quotes:
        assert quote.text == text[quote.start : quote.end]
        assert 0 <= quote.start < quote.end <= len(text)
        if quote.speaker is not None:
            assert quote.speaker == text[quote.speaker_start : quote.speaker_end]  # type: ignore[misc]
        if quote.cue is not None:
            assert quote.cue == text[quote.cue_start : quote.cue_end]  # type: ignore[misc]
