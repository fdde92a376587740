"""Long texts through the NLP pipeline: sentence-aligned pieces below its length limit.

spaCy refuses a text longer than `nlp.max_length` (E088, 1,000,000 characters by
default), and its parser and NER need about 1 GB of memory per 100,000 characters
parsed at once. A long article is therefore cut at paragraph breaks, else at
sentence ends, else at spaces (a hard cut only in a text with none), parsed piece
by piece and joined back into one `Doc` whose text is the article's text exactly,
so every offset still points into `Article.text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from spacy.language import Language
from spacy.tokens import Doc

# Characters parsed at once: far below spaCy's limit, and a piece's memory stays near 0.5 GB at worst.
PIECE_CHARS = 50_000
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*\s+")


def split_for_nlp(text: str, size: int = PIECE_CHARS) -> list[tuple[int, int]]:
    """(start, end) pieces covering `text` in order, each at most `size` characters.

    A piece ends after a paragraph break in the second half of its window, else
    after the last sentence end there, else after the last space; linear in the text.
    """
    pieces: list[tuple[int, int]] = []
    pos = 0
    while len(text) - pos > size:
        end = pos + size
        half = pos + size // 2
        cut = text.rfind("\n\n", half, end)
        if cut >= 0:
            cut += 2
        else:
            last = None
            for last in _SENTENCE_END.finditer(text, half, end):
                pass
            if last is not None:
                cut = last.end()
            else:
                space = max(text.rfind(" ", half, end), text.rfind("\n", half, end))
                cut = space + 1 if space >= 0 else end
        pieces.append((pos, cut))
        pos = cut
    pieces.append((pos, len(text)))
    return pieces


def parse_long(nlp: Language, text: str, size: int = PIECE_CHARS, between: Callable[[], None] | None = None) -> Doc:
    """The parse of `text`, piece by piece when it is longer than `size`; `between` runs after each
    piece (the caller's time budget raises there)."""
    if len(text) <= size:
        return nlp(text)
    docs = []
    for start, end in split_for_nlp(text, size):
        docs.append(nlp(text[start:end]))
        if between is not None:
            between()
    doc = Doc.from_docs(docs, ensure_whitespace=False)
    if doc.text != text:
        raise ValueError("the pieces of a long text did not join back into the same text")
    return doc
