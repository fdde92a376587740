"""Quotation marks pair into quotations; apostrophes, inch marks and unbalanced marks do not."""

from __future__ import annotations

import pytest

from transforms.quote_marks import find_quote_spans


def _spans(text: str) -> list[str]:
    return [text[q.start : q.end] for q in find_quote_spans(text)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("He said “yes” twice.", ["“yes”"]),
        ('He said "yes" twice.', ['"yes"']),
        ("Sie sagte „ja“ und ging.", ["„ja“"]),
        ("Il a dit «oui» hier.", ["«oui»"]),
        ("But: «China wants more.” Then", ["«China wants more.”"]),
        ("The ‘Brexit’ vote", ["‘Brexit’"]),
        ("Russia’s army and the Russians’ views don't change", []),
        ("He is 6'2\" tall and bought a 12\" pizza.", []),
        ("He stood 5'11\" and said \"go\".", ['"go"']),
        ("In the ’90s, rock ’n’ roll ruled.", []),
    ],
)
def test_quote_marks_styles_apostrophes_and_units(text: str, expected: list[str]) -> None:
    assert _spans(text) == expected


def test_nested_quotes_return_the_outer_one() -> None:
    text = "“He told me ‘never again’ and left,” she said."
    assert _spans(text) == ["“He told me ‘never again’ and left,”"]


def test_quote_over_several_paragraphs() -> None:
    text = "She said:\n\n“First paragraph of the quote.\n\n“Second paragraph.\n\n“Last one.”\n\nThen the writer."
    spans = find_quote_spans(text)
    assert len(spans) == 1
    assert text[spans[0].start : spans[0].end].startswith("“First") and text[spans[0].end - 1] == "”"
    assert spans[0].paragraphs == 3


def test_unbalanced_mark_does_not_swallow_the_article() -> None:
    text = "He said “this never closes.\n\nA new paragraph with “a real quote” here.\n\nAnd “another.”"
    assert _spans(text) == ["“a real quote”", "“another.”"]
