"""Long texts are parsed in sentence-aligned pieces that join back into the very same text."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.segments import parse_long, split_for_nlp


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\n”"), max_size=3000), st.integers(min_value=2, max_value=400))
def test_pieces_cover_the_text_in_order_within_the_size(text: str, size: int) -> None:
    pieces = split_for_nlp(text, size)
    assert pieces[0][0] == 0 and pieces[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in zip(pieces, pieces[1:]))
    assert all(0 < end - start <= size for start, end in pieces) or text == ""


def test_cuts_at_paragraphs_then_sentences_then_spaces() -> None:
    text = "One sentence here. Two sentence here.\n\nThird paragraph here. " * 20
    for start, end in split_for_nlp(text, 200)[:-1]:
        assert text[start:end].endswith(("\n\n", ". "))
    words = "word " * 100
    assert all(words[s:e].endswith(" ") for s, e in split_for_nlp(words, 64)[:-1])
    assert split_for_nlp("x" * 10, 4) == [(0, 4), (4, 8), (8, 10)]  # no space at all: hard cuts


def test_a_text_over_the_pipeline_limit_parses_into_one_doc(nlp) -> None:  # type: ignore[no-untyped-def]
    text = "Angela Merkel visited Paris on Monday. “We agree,” she said.\n\n" * 40
    nlp.max_length = 1000  # the limit that made spaCy raise E088 on the whole text
    try:
        checks: list[int] = []
        doc = parse_long(nlp, text, size=500, between=lambda: checks.append(1))
    finally:
        nlp.max_length = 1_000_000
    assert doc.text == text
    assert len(checks) == len(split_for_nlp(text, 500)) > 1
    assert sum(1 for ent in doc.ents if ent.text == "Angela Merkel") == 40
