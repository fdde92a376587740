"""Search snippets: the query's words marked, inflections included, never a raise."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transforms.snippets import to_snippet


def test_marks_the_query_words_and_their_inflections() -> None:
    text = "Opening words. " * 30 + "Diplomats met in Cairo for ceasefire talks on Tuesday; the talk went on. " + "End. " * 40
    snippet = to_snippet(text, "Ceasefire talks", width=120)
    assert "[ceasefire] [talks]" in snippet and "[talk]" in snippet
    assert snippet.startswith("… ") and snippet.endswith(" …") and len(snippet) < 140


@given(st.text(max_size=400), st.text(max_size=40))
def test_never_raises(text: str, query: str) -> None:
    assert isinstance(to_snippet(text, query), str)
