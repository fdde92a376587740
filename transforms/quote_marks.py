"""Quotations found by their marks: “…” "…" «…» »…« „…“ ‚…‘ ‹…› paired like brackets, 「…」 and 『…』.

A mark's neighbours say whether it can open or close a quotation; apostrophes (Russia’s,
don't, the ’90s) and inch marks (5'11") are told apart from quotation marks; a quotation left
open at a paragraph's end continues when the next paragraph reopens it, as news copy does.
Spans include their marks. Speakers and cues are found elsewhere (`transforms.quotes`,
`transforms.speech`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass


DOUBLE = "“”\"«»„‟"
SINGLE = "‘’'‚‹›"
MARKS = DOUBLE + SINGLE
_PARAGRAPH = re.compile(r"\n\s*\n|\n")
_OPEN_BEFORE = set(" \t\n\r\u00a0\u200b([{<—–―-/:;") | set(MARKS)
_CJK_PAIRS = {"「": "」", "『": "』", "﹁": "﹂", "﹃": "﹄"}


@dataclass(frozen=True)
class QuoteSpan:
    """An outermost quotation: `start` at its opening mark, `end` after its closing mark."""

    start: int
    end: int
    paragraphs: int = 1  # how many paragraphs the quote runs over


@dataclass(frozen=True)
class _Mark:
    pos: int
    char: str
    family: str  # "double" or "single"
    can_open: bool
    can_close: bool


def _family(char: str) -> str:
    return "double" if char in DOUBLE else "single"


def _classify(text: str, pos: int) -> _Mark | None:
    """The roles the mark at `pos` can play, or None for apostrophes."""
    char = text[pos]
    before = text[pos - 1] if pos > 0 else "\n"
    after = text[pos + 1] if pos + 1 < len(text) else "\n"
    left = before in _OPEN_BEFORE and not after.isspace()
    right = not before.isspace() and not after.isalnum()
    if char in "’'‘" and before.isalnum() and after.isalnum():
        return None  # Russia’s, don't
    if char in "’'" and after.isdigit() and not before.isalnum():
        return None  # ’90s
    family = _family(char)
    if char in "“„‟«‚‹‘":
        can_close = char in "“‘«‹" and right and not left  # „…“ closes with “, »…« with «
        return _Mark(pos, char, family, True, can_close)
    if char in "”»›’":
        can_open = left and not right and char != "’"  # ’ opening a quote is rarer than ’em
        return _Mark(pos, char, family, can_open, True)
    if not left and not right:  # straight mark with no clue from its neighbours
        return _Mark(pos, char, family, True, True) if before.isspace() and after.isspace() else None
    return _Mark(pos, char, family, left, right)


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each non-blank line-separated paragraph."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _PARAGRAPH.finditer(text):
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _continues(text: str, start: int, end: int, family: str) -> int | None:
    """Position of the opening mark that continues a quote at a paragraph start."""
    pos = start
    while pos < end and text[pos].isspace():
        pos += 1
    if pos < end and text[pos] in "“„«\"‘‚‹»”" and _family(text[pos]) == family:
        return pos
    return None


def _pair(text: str, marks: list[_Mark], stack: list[_Mark], pairs: list[tuple[int, int]]) -> None:
    """Pair marks like brackets, a closing mark closing the innermost open one of its family.

    Linear in the marks: each family keeps the stack depths of its open marks, so a
    closing mark finds its partner without walking the stack (unbalanced marks pile up).
    """
    depths: dict[str, list[int]] = {"double": [], "single": []}
    open_chars: dict[str, int] = {}
    for depth, mark in enumerate(stack):
        depths[mark.family].append(depth)
        open_chars[mark.char] = open_chars.get(mark.char, 0) + 1
    remaining: dict[str, int] = {}  # marks of each char still to come
    for mark in marks:
        remaining[mark.char] = remaining.get(mark.char, 0) + 1
    for mark in marks:
        remaining[mark.char] -= 1
        before = text[mark.pos - 1] if mark.pos > 0 else " "
        if mark.char in "\"'" and before.isdigit():  # 5'11", a 12" pizza, unless it balances a quote
            open_same = open_chars.get(mark.char, 0) > 0
            if not (open_same and mark.can_close and remaining[mark.char] % 2 == 0):
                continue
        if mark.can_close and depths[mark.family]:
            depth = depths[mark.family][-1]
            pairs.append((stack[depth].pos, mark.pos + 1))
            for closed in stack[depth:]:
                depths[closed.family].pop()
                open_chars[closed.char] -= 1
            del stack[depth:]
        elif mark.can_open:
            depths[mark.family].append(len(stack))
            open_chars[mark.char] = open_chars.get(mark.char, 0) + 1
            stack.append(mark)


def find_quote_spans(text: str) -> list[QuoteSpan]:
    """Outermost quotations in `text`, in order, marks included in each span."""
    original = text
    text = text.replace("''", "\u200b\"").replace("``", "\u200b\"")  # the `` and '' of some wires
    pairs: list[tuple[int, int]] = []
    carried: _Mark | None = None
    for p_start, p_end in paragraph_spans(text):
        marks = [m for pos in range(p_start, p_end) if text[pos] in MARKS and (m := _classify(text, pos))]
        stack: list[_Mark] = []
        if carried is not None:
            first = _continues(text, p_start, p_end, carried.family)
            if first is not None:
                stack.append(carried)
                marks = [m for m in marks if m.pos != first]
        _pair(text, marks, stack, pairs)
        # a quote left open continues only if the next paragraph reopens it
        carried = next((s for s in stack if s.family == "double"), stack[0] if stack else None)
    pairs.sort(key=lambda p: (p[0], -p[1]))
    outer: list[QuoteSpan] = []
    for start, end in pairs:
        if start > 0 and text[start - 1] == "\u200b" and original[start - 1] != "\u200b":
            start -= 1
        if outer and start < outer[-1].end:
            continue  # nested quote
        count = text.count("\n", start, end)
        outer.append(QuoteSpan(start, end, 1 + len(_PARAGRAPH.findall(text, start, end)) if count else 1))
    return outer


def find_cjk_quote_spans(text: str) -> list[QuoteSpan]:
    """「…」 and 『…』 quotations (outermost), within a paragraph."""
    spans: list[QuoteSpan] = []
    for p_start, p_end in paragraph_spans(text):
        stack: list[tuple[int, str]] = []
        for pos in range(p_start, p_end):
            char = text[pos]
            if char in _CJK_PAIRS:
                stack.append((pos, _CJK_PAIRS[char]))
            elif stack and char == stack[-1][1]:
                start, _ = stack.pop()
                if not stack:
                    spans.append(QuoteSpan(start, pos + 1))
    return spans


def find_marked_spans(text: str) -> list[QuoteSpan]:
    """Quotations by their marks in any script, outermost, in text order."""
    spans = sorted(find_quote_spans(text) + find_cjk_quote_spans(text), key=lambda q: (q.start, -q.end))
    outer: list[QuoteSpan] = []
    for span in spans:
        if not outer or span.start >= outer[-1].end:
            outer.append(span)
    return outer
