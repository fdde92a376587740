"""Fingerprints: copies with a new headline, typography and a trimmed ending stay close; unrelated texts do not."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transforms.fingerprints import (
    BANDS,
    NUM_PERM,
    body_text,
    estimate_jaccard,
    to_fingerprint,
    to_shingles,
    to_words,
)
from transforms.models import Article, Block, to_content_hash

PARAS = [
    "The city council voted on Tuesday to extend the night bus service to the northern suburbs until March.",
    "Council member Ana Ruiz said the extension would cost 1.2 million euros a year and serve 4,000 riders a night.",
    "Opponents argued that the money should go to repairing the tram line, which has been closed since June.",
    "The transport authority will publish a new timetable next week, a spokesman for the authority said.",
    "Night workers' unions welcomed the vote but asked for buses every fifteen minutes instead of thirty.",
]


def _article(article_id: str, headline: str, paragraphs: list[str]) -> Article:
    text = "\n\n".join([headline, *paragraphs])
    return Article(article_id, to_content_hash(text), article_id, "seed", text,
                   blocks=(Block("headline", 0, len(headline)),))


def test_the_headline_is_left_out_and_typography_does_not_count() -> None:
    a = _article("a", "Council extends night buses", PARAS)
    b = _article("b", "NIGHT BUSES: north gets late service", [p.replace("'", "’").upper() for p in PARAS])
    assert body_text(a).strip().startswith("The city council")
    assert to_fingerprint(a).signature == to_fingerprint(b).signature


def test_a_trimmed_copy_with_boilerplate_is_close_and_an_unrelated_text_is_not() -> None:
    a = to_fingerprint(_article("a", "Council extends night buses", PARAS))
    copy = to_fingerprint(_article("b", "Late buses", PARAS[:-1] + ["Read more: our newsletter, every morning."]))
    other = to_fingerprint(_article("c", "Pasta", ["Boil the pasta in salted water for nine minutes, then drain it "
                                                   "and toss it with tomatoes, basil and olive oil."]))
    assert estimate_jaccard(a.signature, copy.signature) >= 0.5
    assert estimate_jaccard(a.signature, other.signature) < 0.1
    assert len(a.signature) == NUM_PERM and len(a.bands) == BANDS
    assert set(a.bands) & set(copy.bands) and not set(a.bands) & set(other.bands)


@given(st.text(max_size=300))
def test_words_and_shingles_never_raise(text: str) -> None:
    words = to_words(text)
    assert to_words(" ".join(words)) == words
    assert len(to_shingles(words)) <= max(1, len(words))
