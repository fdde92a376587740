"""Search snippets: the passage of an article around the words of a query, those words marked."""

from __future__ import annotations

import re
import unicodedata

MARK_OPEN, MARK_CLOSE = "[", "]"
_WORD = re.compile(r"\w+", re.UNICODE)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def to_query_stems(query: str) -> list[str]:
    """Prefixes that stand for the query's words and their inflections ("talks" -> "talk", "heatwave" -> "heatwav")."""
    stems = []
    for word in _WORD.findall(_fold(query)):
        stems.append(word if len(word) <= 4 else word[: max(4, len(word) - 2)])
    return sorted(set(stems), key=len, reverse=True)


def to_snippet(text: str, query: str, width: int = 200) -> str:
    """About `width` characters of `text` around its first query word, every query word in [brackets]."""
    stems = to_query_stems(query)
    if not stems:
        spans = []
    else:  # a word starting with a stem, found by the regex engine (a Python loop over every word is 10x slower)
        pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")\w*", re.IGNORECASE)
        spans = [(m.start(), m.end()) for m in pattern.finditer(text)]
    first = spans[0][0] if spans else 0
    start = max(0, first - width // 3)
    if start:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > first else end
    pieces, at = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        pieces += [text[at:s], MARK_OPEN, text[s:e], MARK_CLOSE]
        at = e
    pieces.append(text[at:end])
    snippet = " ".join("".join(pieces).split())
    return ("… " if start else "") + snippet + (" …" if end < len(text) else "")
