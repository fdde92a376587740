"""Quotations in an article: direct, partial, mixed and indirect, with cue and speaker.

`extract_quotes(doc, article, mentions)` is the stage's one entry point; `doc` is
the parsed `article.text` (tagger, parser, lemmatizer, NER) and `mentions` the
article's resolved entity mentions.

Conventions:
- The content span of a direct or partial quote INCLUDES its quotation marks
  (“…”, as PolNeAR annotates; scoring trims them), so `text` always shows the
  reader where the quote begins and ends; a quote over several paragraphs
  runs from its first opening mark to its final closing mark.
- `direct`: a quotation that stands as a sentence of its own (it starts a
  sentence, or follows a colon, comma, dash or speech verb, and starts with a
  capital); `partial`: a quoted fragment inside the writer's sentence;
  `indirect`: reported speech, content = the reported clause, without its
  quotation marks or edge punctuation; `mixed`: reported speech with a quoted
  fragment inside (the partial quote is also kept on its own).
- A quote with no cue in its sentence takes the last speaker of its paragraph
  or of the previous one (method "carry_over", lower confidence). A quoted
  fragment with no cue and no speaker to carry over, and any single quoted
  word with no cue, is a scare quote or a term ("rocky"), not a quotation.
- Unnamed speakers ("a Kremlin insider") keep their text and have no entity.
- One quotation, as PolNeAR annotates it (train split): “A,” she said. “B.” is ONE
  attribution whose content runs from “A to B.” (our two quotes share the cue; the
  second has method "continuation"), and so is “A,” she said, “and b.” (the lower-case
  part after the interrupting cue is direct too). Only the attribution may stand
  between the parts: a sentence of the writer's own ends the quotation ("Mr." and
  other abbreviations are no sentence end). Content keeps its closing punctuation
  inside the marks and never the cue's trailing clause ("..., she said, adding ...").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace

from spacy.tokens import Doc

from transforms.attribution import SPEECH_VERBS, Cue, Sentences, find_cues, sentence_region, trim
from transforms.models import Article, Mention, Quote
from transforms.quote_marks import MARKS, QuoteSpan, find_quote_spans, paragraph_spans
from transforms.speakers import MentionIndex, Speaker, last_speaker, to_speaker

_SENTENCE_BEFORE = tuple(".!?:;,—–-([")
# How far around a quotation its context is read (a speaker's colon, the word before): a
# bound, so that the work per quotation does not grow with the paragraph around it.
_WINDOW = 400
_NOT_BLANK = re.compile(r"[^ \t\u00a0]")
_COLON_SPEAKER = re.compile(r"([^.!?:;\n“”\"«»]{2,80}?)\s*:\s*$")
_DASH_SPEAKER = re.compile(r"[ \t\u00a0]*\n?[ \t\u00a0]*(?:[—–―]|--?)[ \t\u00a0]*")


def _is_direct(text: str, quote: QuoteSpan, p_start: int) -> bool:
    """A quotation standing as a sentence of its own, not a fragment of the writer's."""
    inner = text[quote.start : quote.end].strip(MARKS + " \t\n\u00a0\u200b")
    if not inner:
        return False
    letter = next((c for c in inner if c.isalpha()), "")
    if not letter or not (letter.isupper() or inner[0] in "[(…"):
        return False
    if quote.paragraphs > 1:
        return True
    before = text[max(p_start, quote.start - _WINDOW) : quote.start].rstrip()
    if not before and quote.start - _WINDOW > p_start:  # a long run of blanks: look at the whole paragraph
        before = text[p_start : quote.start].rstrip()
    after_at = _NOT_BLANK.search(text, quote.end)
    after = text[after_at.start() : after_at.start() + 1] if after_at else ""
    standalone = not before or before.endswith(_SENTENCE_BEFORE) or before.rsplit(None, 1)[-1].lower() in SPEECH_WORDS
    closed = inner[-1] in ".!?,…:;—–-" or not after or after[0] in ".!?\n"
    return standalone and closed


SPEECH_WORDS = frozenset({"said", "says", "say", "told", "tells", "added", "adds", "wrote", "writes", "asked", "asks"})


class _Paragraphs(list[tuple[int, int]]):
    """Paragraph spans with their ends at hand, so that finding a position's paragraph is a bisection."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        super().__init__(spans)
        self.ends = [end for _, end in spans]


def _paragraph_of(paragraphs: list[tuple[int, int]], pos: int) -> int:
    ends = paragraphs.ends if isinstance(paragraphs, _Paragraphs) else [end for _, end in paragraphs]
    return min(bisect_right(ends, pos), len(paragraphs) - 1)


def _quote(article: Article, start: int, end: int, kind: str, cue: Cue | None, speaker: Speaker | None,
           confidence: float, method: str) -> Quote:
    text = article.text
    return Quote(
        article_id=article.article_id,
        start=start,
        end=end,
        text=text[start:end],
        kind=kind,
        cue=text[cue.start : cue.end] if cue else None,
        cue_lemma=cue.lemma if cue else None,
        cue_start=cue.start if cue else None,
        cue_end=cue.end if cue else None,
        speaker=speaker.text if speaker else None,
        speaker_start=speaker.start if speaker else None,
        speaker_end=speaker.end if speaker else None,
        speaker_entity_id=speaker.entity_id if speaker else None,
        confidence=confidence,
        method=method,
    )


def _nearest(cues: list[Cue], start: int, end: int) -> Cue | None:
    def distance(cue: Cue) -> int:
        return cue.start - end if cue.start >= end else start - cue.end

    return min(cues, key=distance) if cues else None


class _Spans:
    """The outermost quotations in order (they never overlap), with their starts and ends for bisection."""

    def __init__(self, spans: list[QuoteSpan]) -> None:
        self.items = spans
        self.starts = [q.start for q in spans]
        self.ends = [q.end for q in spans]

    def holding(self, pos: int) -> QuoteSpan | None:
        k = bisect_right(self.starts, pos) - 1
        return self.items[k] if k >= 0 and pos < self.items[k].end else None

    def overlapping(self, start: int, end: int) -> list[QuoteSpan]:
        return self.items[bisect_right(self.ends, start) : bisect_left(self.starts, end)]

    def starts_between(self, low: int, high: int) -> int:
        """How many quotations start strictly between `low` and `high`."""
        return max(0, bisect_left(self.starts, high) - bisect_right(self.starts, low))


def _cue_in_sentence(
    doc: Doc, quote: QuoteSpan, cues: list[Cue], spans: _Spans, bounds: tuple[int, int], sentences: Sentences,
    cue_starts: list[int], index: int,
) -> tuple[Cue | None, str]:
    """The speech cue of the quote's sentence; `bounds` are its paragraphs' outer edges.

    `cues` are sorted by start (`cue_starts`); `index` is the quote's place in `spans`. A cue
    with another quotation between it and this one is not this one's, so only the cues between
    the neighbouring quotations are looked at: the work per quotation stays local.
    """
    region = sentence_region(doc, quote.start, quote.end, sentences)
    lo, hi = max(region.start_char, bounds[0]), min(region.end_char, bounds[1])
    if index > 0:
        lo = max(lo, spans.items[index - 1].start)
    if index + 1 < len(spans.items):
        hi = min(hi, spans.items[index + 1].start)
    window = cues[bisect_left(cue_starts, lo) : bisect_left(cue_starts, hi)] if lo < hi else []
    near = [c for c in window if c.lemma in SPEECH_VERBS or c.lemma == "according to"]
    near = [c for c in near if not _quote_between(spans, quote, min(c.start, quote.start), max(c.end, quote.end))]
    syntactic = [c for c in near if c.content and c.content[0] < quote.end and quote.start < c.content[1]]
    if syntactic:
        return _nearest(syntactic, quote.start, quote.end), "cue_in_sentence"
    if near:
        return _nearest(near, quote.start, quote.end), "cue_nearby"
    return None, ""


def _quote_between(spans: _Spans, quote: QuoteSpan, low: int, high: int) -> bool:
    """Another quotation than `quote` starts strictly between `low` and `high`."""
    inside = spans.starts_between(low, high)
    return inside - (1 if low < quote.start < high else 0) > 0


def _punctuation_cue(doc: Doc, text: str, quote: QuoteSpan, p_start: int, p_end: int) -> Cue | None:
    """`X: “...”` before the quote, or `“...” — X` after it (`text` is `doc.text`)."""
    match = _COLON_SPEAKER.search(text, max(p_start, quote.start - _WINDOW), quote.start)
    if match and match.end() == quote.start or (match and not text[match.end() : quote.start].strip()):
        s, e = trim(text, match.start(1), match.end(1))
        span = doc.char_span(s, e, alignment_mode="expand")
        nouns = [t for t in span or () if t.pos_ in ("PROPN", "NOUN")] if span is not None else []
        if nouns and len(span or ()) <= 8 and not any(t.pos_ == "VERB" for t in span or ()):
            colon = text.rindex(":", s, quote.start)
            return Cue(colon, colon + 1, ":", nouns[-1].i, (s, e), nouns[-1].i, None)
    dash = _DASH_SPEAKER.match(text, quote.end)
    if dash:
        line_end = text.find("\n", dash.end(), dash.end() + _WINDOW)
        line_end = line_end if line_end >= 0 else min(len(text), dash.end() + _WINDOW)
        span = doc.char_span(dash.end(), line_end, alignment_mode="expand")
        if span is not None and len(span) and span[0].pos_ == "PROPN":
            last = span[0]
            while last.i + 1 < span.end and doc[last.i + 1].pos_ == "PROPN":
                last = doc[last.i + 1]
            head = last.i
            s, e = span[0].idx, last.idx + len(last.text)
            mark = dash.start() + len(dash.group()) - len(dash.group().lstrip())
            mark_end = mark + len(dash.group().strip())
            return Cue(mark, mark_end, "—", head, (s, e), head, None)
    return None


def _continues_quote(text: str, previous: QuoteSpan, cue: Cue, span: QuoteSpan) -> bool:
    """`span` goes on with the speech of `previous`: nothing but its attribution comes between.

    "“A,” she said. “B.”" and a quote in the next paragraph right after are one
    attribution; a sentence of the writer's own in between ends it.
    """
    gap = text[previous.end : span.start]
    if text.count("\n", previous.end, span.start) > 2 and gap.strip():
        return False
    if not gap.strip():
        return gap.count("\n\n") <= 1 or gap.count("\n") <= 2
    inside = previous.end <= cue.start and cue.end <= span.start
    return inside and _sentence_ends(gap.strip()) == 0 and gap.count("\n") <= 2


_STOP = re.compile(r"(\S*)[.!?]+(?=\s+\S)")


def _sentence_ends(gap: str) -> int:
    """Full stops inside `gap` (not at its end) that are not abbreviations ("Mr.", "D-N.C.")."""
    ends = 0
    for match in _STOP.finditer(gap):
        word = match.group(1).strip("([\"'“”‘’")
        if re.fullmatch(r"[A-Z][a-z]{0,3}|[A-Za-z]|.*\..*", word) is None:
            ends += 1
    return ends


_WORD = re.compile(r"\w+")


def _indirect(cue: Cue, text: str, spans: _Spans) -> str | None:
    """'indirect', 'mixed' or None when the cue's content is just a direct quote.

    Mixed when a word (not "and"/"but") of the content lies outside its quotations, the
    cue and the speaker: the text between those gaps is searched piece by piece, once.
    """
    if cue.content is None:
        return None
    s, e = cue.content
    inside = spans.overlapping(s, e)
    if not inside:
        return "indirect"
    gaps = sorted([(q.start, q.end) for q in inside] + [(cue.start, cue.end)] + ([cue.speaker] if cue.speaker else []))
    pos = s
    for a, b in [*gaps, (e, e)]:
        if a > pos:
            for word in _WORD.finditer(text, pos, min(a, e)):
                if word.group().lower() not in ("and", "but"):
                    return "mixed"
        pos = max(pos, b)
        if pos >= e:
            break
    return None


def _clip(cue: Cue, paragraphs: list[tuple[int, int]]) -> Cue:
    """Keep a cue's content inside the cue's paragraph (the parser may run over a break)."""
    if cue.content is None:
        return cue
    p_start, p_end = paragraphs[_paragraph_of(paragraphs, cue.start)]
    start, end = max(cue.content[0], p_start), min(cue.content[1], p_end)
    return replace(cue, content=(start, end) if end > start else None)


def extract_quotes(doc: Doc, article: Article, mentions: Sequence[Mention]) -> list[Quote]:
    """Direct, partial, mixed and indirect quotations in `article`, in text order."""
    text = article.text
    if doc.text != text:
        raise ValueError(f"article {article.article_id}: the doc is not the parse of article.text")
    paragraphs = _Paragraphs(paragraph_spans(text))
    spans = find_quote_spans(text)
    quoted = _Spans(spans)
    sentences = Sentences(doc)
    index = MentionIndex(mentions)
    cues = [_clip(c, paragraphs) for c in find_cues(doc, text) if quoted.holding(c.start) is None]
    by_start = sorted(cues, key=lambda c: c.start)
    cue_starts = [c.start for c in by_start]
    events: list[tuple[int, str, QuoteSpan | None, Cue | None, str]] = []
    chain: tuple[QuoteSpan, Cue] | None = None  # the last quote attributed by a cue
    for number, span in enumerate(spans):
        p_start, p_end = paragraphs[_paragraph_of(paragraphs, span.start)]
        last_end = paragraphs[_paragraph_of(paragraphs, span.end - 1)][1]
        cue, method = _cue_in_sentence(doc, span, by_start, quoted, (p_start, last_end), sentences, cue_starts, number)
        if cue is None:
            cue = _punctuation_cue(doc, text, span, p_start, p_end)
            method = "punctuation" if cue else ""
        kind = "direct" if _is_direct(text, span, p_start) else "partial"
        if chain is not None and (cue is None or cue == chain[1]) and _continues_quote(text, chain[0], chain[1], span):
            if cue is None and kind == "direct":
                cue, method = chain[1], "continuation"
            elif cue is not None and chain[0].end <= cue.start and text[chain[0].start : chain[0].end].rstrip(
                MARKS + " "
            ).endswith(","):
                kind = "direct"  # “A,” she said, “and b.”: one quotation the cue interrupts
        chain = (span, cue) if cue is not None and kind == "direct" else None
        events.append((span.start, kind, span, cue, method))
    for cue in cues:
        indirect = _indirect(cue, text, quoted)
        if indirect is not None and cue.content is not None:
            events.append((min(cue.start, cue.content[0]), indirect, None, cue, "cue_in_sentence"))
    events.sort(key=lambda e: e[0])
    timeline: list[Speaker] = []
    people: list[Speaker] = []  # the timeline's named persons, for pronouns
    quotes: list[Quote] = []
    for _, kind, quote, cue, method in events:
        anchor = quote.start if quote else cue.start if cue else 0
        paragraph = _paragraph_of(paragraphs, anchor)
        speaker = to_speaker(doc, text, cue, index, people, anchor, paragraph) if cue else None
        confidence = {"cue_in_sentence": 0.9, "cue_nearby": 0.8, "continuation": 0.85, "punctuation": 0.75}.get(
            method, 0.6)
        if cue is None:
            speaker = last_speaker(timeline, anchor, paragraph)
            method, confidence = ("carry_over", 0.6) if speaker else ("unattributed", 0.3)
            if kind == "partial" and (speaker is None or len(text[anchor : quote.end if quote else anchor].split()) < 2):
                continue  # a scare quote or a term, not a quotation
        if speaker is not None:
            timeline.append(Speaker(speaker.text, speaker.start, speaker.end, speaker.entity_id, speaker.label, anchor, paragraph))
            if speaker.entity_id and speaker.label == "PERSON":
                people.append(timeline[-1])
        if quote is not None:
            quotes.append(_quote(article, quote.start, quote.end, kind, cue, speaker, confidence, method))
        elif cue is not None and cue.content is not None:
            s, e = trim(text, *cue.content, edge=" \t\n\r\u00a0,;:.—–-")
            quotes.append(_quote(article, s, e, kind, cue, speaker, 0.7, "indirect_" + cue.lemma.replace(" ", "_")))
    return sorted(quotes, key=lambda q: (q.start, q.end))
