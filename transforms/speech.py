"""Direct quotations in any language and script, found by their marks, with the speaker as written.

For an article whose language has no English parse to lean on, a quotation is
what its marks say it is: “…” "…" «…» »…« „…“ ‚…‘ ‹…› (found by
`transforms.quote_marks.find_marked_spans`), 「…」 and 『…』, and the dialogue dash that
opens a paragraph of speech (`— Мы готовы, — сказал Песков. — Но ...`).
Its speaker comes from the words around it, in the patterns news copy uses in
every language, with the language's speech verbs from data (`speech_cues.toml`,
parsed by `parse_speech_cues`; no verb list lives in code):

- after the quote: `«...», — сказал Сергей Лавров.`, `« ... », a déclaré Emmanuel Macron.`,
  `„...“, sagte Merkel.`, `« ... », explique-t-il.`, `"...", Smith said.`
- before it: `Лавров заявил: «...»`, `Macron a déclaré : « ... »`, `Merkel: „...“`
- a dialogue dash: `— ..., — сказала Мария Захарова. — ...` (the part after the
  attribution continues the same speech).

The speaker is stored as written (a name with its title, "глава МИД Сергей
Лавров"; a pronoun, "il"), cut before the first lower-case word that follows
a capitalised one ("Песков в интервью" -> "Песков"). Where the language has an
NER pipeline its person and organisation mentions give `speaker_entity_id`
(a pronoun takes the last person named before it); elsewhere there is none.
A quote with no attribution of its own takes the speaker of the previous
attributed quote in its paragraph or the one before ("carry_over"); one with
neither is kept when it is a sentence of three words or more ("unattributed"),
so scare quotes (`«Kalifat»`) are not quotations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from transforms.models import Article, Mention, Quote
from transforms.quote_marks import MARKS, QuoteSpan, find_marked_spans, paragraph_spans
from transforms.speakers import mention_at

_DASHES = "—–―"
_STOP = ",.;:!?()[]\n«»“”„‟\"‹›「」『』" + _DASHES
_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)
_PARTICLES = frozenset({"de", "van", "von", "der", "da", "di", "du", "la", "le", "del", "dos", "al", "bin", "ibn"})
MAX_SPEAKER_WORDS = 8
# Between a closing mark and the verb after it: optional punctuation, then an optional dash.
_AFTER_MARK = rf"[ \t\u00a0]*(?P<punct>[,.!?…]?)[ \t\u00a0]*(?P<dash>[{_DASHES}]|--?)?[ \t\u00a0]*"


@dataclass(frozen=True)
class SpeechCues:
    """A language's speech verbs (word forms as written) and subject pronouns."""

    language: str
    verbs: tuple[str, ...]
    pronouns: frozenset[str] = frozenset()
    inverted: tuple[str, ...] = ()  # French "-t-il": a pronoun speaker after its verb

    @cached_property
    def verb_pattern(self) -> str:
        forms = sorted(set(self.verbs), key=len, reverse=True)
        return "(?:" + "|".join(r"\s+".join(re.escape(w) for w in form.split()) for form in forms) + r")(?!\w)"

    @cached_property
    def inverted_pattern(self) -> str:
        forms = sorted(set(self.inverted), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(f) for f in forms) + r")(?!\w)" if forms else "(?!)"

    @cached_property
    def after(self) -> re.Pattern[str]:
        """What follows a closing mark: `, — сказал Имя`, `, a déclaré Nom`, `, explique-t-il`."""
        return re.compile(
            rf"{_AFTER_MARK}(?P<verb>(?<!\w){self.verb_pattern})(?P<inv>{self.inverted_pattern})?",
            re.IGNORECASE,
        )

    @cached_property
    def after_inverted_compound(self) -> re.Pattern[str]:
        """`», a-t-il affirmé`: the auxiliary of a two-word verb form, its pronoun, the participle."""
        pairs = [form.split() for form in self.verbs if len(form.split()) == 2]
        if not pairs or not self.inverted:
            return re.compile("(?!)")
        auxiliaries = "|".join(sorted({re.escape(p[0]) for p in pairs}, key=len, reverse=True))
        participles = "|".join(sorted({re.escape(p[1]) for p in pairs}, key=len, reverse=True))
        return re.compile(
            rf"{_AFTER_MARK}(?P<verb>(?<!\w)(?:{auxiliaries})(?P<inv>{self.inverted_pattern})"
            rf"[ \t\u00a0]+(?:{participles})(?!\w))",
            re.IGNORECASE,
        )

    @cached_property
    def after_speaker_first(self) -> re.Pattern[str]:
        """`"...", Smith said` / `"...", he said`: a short speaker, then the verb."""
        return re.compile(
            rf"[ \t\u00a0]*[,.!?…]?[ \t\u00a0]*(?:[{_DASHES}]|--?)?[ \t\u00a0]*"
            rf"(?P<speaker>(?:[^\W\d_][\w'’.-]*[ \t\u00a0]+){{0,3}}[^\W\d_][\w'’.-]*)[ \t\u00a0]+"
            rf"(?P<verb>{self.verb_pattern})",
            re.IGNORECASE,
        )

    @cached_property
    def before(self) -> re.Pattern[str]:
        """What precedes an opening mark: `Лавров заявил: «`, `Macron a déclaré : «`."""
        return re.compile(rf"(?<!\w)(?P<verb>{self.verb_pattern})[ \t\u00a0]*:[ \t\u00a0]*$", re.IGNORECASE)

    @cached_property
    def dash_attribution(self) -> re.Pattern[str]:
        """Inside a dash paragraph: `, — сказал` / `—dijo` ending a stretch of speech."""
        return re.compile(rf"[,.!?…]?[ \t\u00a0]*[{_DASHES}][ \t\u00a0]*(?={self.verb_pattern})", re.IGNORECASE)


NO_CUES = SpeechCues("", ())


def parse_speech_cues(data: Mapping[str, Any]) -> dict[str, SpeechCues]:
    """Cue tables keyed by language (the parsed `speech_cues.toml`) as SpeechCues."""
    cues = {}
    for language, table in data.items():
        if not isinstance(table, Mapping):
            raise ValueError(f"speech cues: [{language}] must be a table")
        verbs = tuple(str(v) for v in table.get("verbs", ()))
        pronouns = frozenset(str(p).lower() for p in table.get("pronouns", ()))
        inverted = tuple(str(i) for i in table.get("inverted", ()))
        cues[language] = SpeechCues(language, verbs, pronouns, inverted)
    return cues


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    method: str  # "marks", "dash"
    cue: tuple[int, int] | None = None
    speaker: tuple[int, int] | None = None
    how: str = ""


def _speaker_phrase(text: str, start: int, cues: SpeechCues) -> tuple[int, int] | None:
    """The speaker words from `start`: up to punctuation, cut before a lower-case word after a capitalised one."""
    end = start
    limit = len(text)
    while end < limit and text[end] not in _STOP:
        end += 1
    words = list(_WORD.finditer(text, start, end))[:MAX_SPEAKER_WORDS]
    if not words:
        return None
    if words[0].group().lower() in cues.pronouns:
        return words[0].start(), words[0].end()
    kept = []
    seen_capital = False
    for word in words:
        w = word.group()
        capital = w[0].isupper() or not w[0].islower()  # caseless scripts count as names
        if seen_capital and not capital and w.lower() not in _PARTICLES:
            break
        seen_capital = seen_capital or capital
        kept.append(word)
    if not seen_capital:
        kept = kept[:4]
        apposition = _APPOSITION.match(text, end) if len(kept) == len(words) else None
        if apposition:  # "la directrice du musée, Anne Dubois": the role, then the name
            return kept[0].start(), apposition.end(1)
    return kept[0].start(), kept[-1].end()


_APPOSITION = re.compile(r",[ \t\u00a0]*((?:[^\W\d_a-zà-ÿа-я][\w'’.-]*[ \t\u00a0]+){0,3}[^\W\d_a-zà-ÿа-я][\w'’.-]*)"
                         r"[ \t\u00a0]*(?=[,.;:!?\n]|$)")


def _closes_clause(text: str, span: QuoteSpan, match: re.Match[str]) -> bool:
    """A comma, stop or dash between the quote's words and the verb: `«...», — сказал`, `„...!“ sagte`."""
    inner = text[span.start : span.end].rstrip(MARKS + "」』 \t\u00a0")
    return bool(match.group("punct") or match.group("dash")) or inner.endswith(tuple(",.!?…"))


def _after(text: str, span: QuoteSpan, cues: SpeechCues) -> _Found | None:
    match = cues.after.match(text, span.end) or cues.after_inverted_compound.match(text, span.end)
    if match and _closes_clause(text, span, match):
        if match.group("inv"):
            inv_start, inv_end = match.span("inv")
            letters = re.search(r"[^\W\d_]+$", text[inv_start:inv_end])
            speaker = (inv_end - len(letters.group()), inv_end) if letters else None
            return _Found(span.start, span.end, "marks", match.span("verb"), speaker, "cue_after")
        speaker = _speaker_phrase(text, match.end(), cues)
        if speaker is not None:
            return _Found(span.start, span.end, "marks", match.span("verb"), speaker, "cue_after")
    match = cues.after_speaker_first.match(text, span.end)
    if match:
        s, e = match.span("speaker")
        words = text[s:e].split()
        if words and (words[0].lower() in cues.pronouns or words[-1][0].isupper()):
            return _Found(span.start, span.end, "marks", match.span("verb"), (s, e), "cue_after")
    return None


def _before(text: str, span: QuoteSpan, p_start: int, cues: SpeechCues) -> _Found | None:
    head = text[p_start : span.start]
    match = cues.before.search(head)
    if match:
        words = list(_WORD.finditer(head, 0, match.start()))
        chosen: list[re.Match[str]] = []
        for word in reversed(words[-MAX_SPEAKER_WORDS:]):
            w = word.group()
            if w.lower() in cues.pronouns and not chosen:
                chosen = [word]
                break
            if not (w[0].isupper() or w.lower() in _PARTICLES):
                break
            chosen.insert(0, word)
        if not chosen:  # "La ministre a affirmé :": the sentence's few words before the verb
            sentence = re.split(r"[.!?…]\s+", head[: match.start()])[-1]
            tail = list(_WORD.finditer(head, match.start() - len(sentence), match.start()))
            chosen = tail if 0 < len(tail) <= 4 else []
        if chosen:
            speaker = (p_start + chosen[0].start(), p_start + chosen[-1].end())
            verb = (p_start + match.start("verb"), p_start + match.end("verb"))
            return _Found(span.start, span.end, "marks", verb, speaker, "cue_before")
    colon = re.search(r"((?:[^\W\d_][\w'’.-]*[ \t\u00a0]+){0,3}[^\W\d_][\w'’.-]*)[ \t\u00a0]*:[ \t\u00a0]*$", head)
    if colon and all(w[0].isupper() for w in colon.group(1).split()) and not head[: colon.start()].strip(" \t"):
        return _Found(span.start, span.end, "marks", None, (p_start + colon.start(1), p_start + colon.end(1)),
                      "colon")
    return None


_DASH_REST = re.compile(rf"[ \t\u00a0]*[{_DASHES}]?[ \t\u00a0]*[,.!?…]?[ \t\u00a0]*[{_DASHES}]?[ \t\u00a0]*")
_DASHES_RE = re.compile(f"[{_DASHES}]")
_SENTENCE_END = re.compile(r"[.!?…]+(?=[ \t\u00a0]+\S|$)")
# A dash that opens speech: at the start of a paragraph (a line) or after a sentence's end.
_DASH_OPEN = re.compile(rf"(?:^|(?<=[.!?…])[ \t\u00a0]+)[ \t\u00a0]*([{_DASHES}])[ \t\u00a0]*(?=\w)", re.MULTILINE)


def _dash_speech(text: str, p_start: int, p_end: int, cues: SpeechCues) -> list[_Found]:
    """Dialogue in a paragraph: `— speech, — verb Speaker. — more speech`, opening the paragraph or
    after a full stop; a dash with no speech verb after its speech is not taken for a quotation."""
    found: list[_Found] = []
    pos = p_start
    while cues.verbs:
        opening = _DASH_OPEN.search(text, pos, p_end)
        attribution = cues.dash_attribution.search(text, opening.end(), p_end) if opening else None
        if opening is None or attribution is None:
            break
        while (nearer := _DASH_OPEN.search(text, opening.end(), attribution.start())) is not None:
            opening = nearer  # the speech begins at the last opening dash before its attribution
        verb = cues.after.match(text, attribution.start())
        speaker = _speaker_phrase(text, verb.end(), cues) if verb else None
        if verb is None or speaker is None:
            pos = attribution.end()
            continue
        speech_end = attribution.start() + len(attribution.group().rstrip(_DASHES + " \t\u00a0"))
        found.append(_Found(opening.start(1), speech_end, "dash", verb.span("verb"), speaker, "dialogue_dash"))
        pos = speaker[1]
        rest = _DASH_REST.match(text, speaker[1])
        if rest and _DASHES_RE.search(rest.group()) and rest.end() < p_end:
            end = p_end
            more = cues.dash_attribution.search(text, rest.end(), p_end)
            if more:
                end = more.start() + len(more.group().rstrip(_DASHES + " \t\u00a0"))
            elif text[p_start : opening.start(1)].strip():  # dialogue inside a paragraph: one sentence more
                stop = _SENTENCE_END.search(text, rest.end(), end)
                end = stop.end() if stop else end
            found.append(_Found(rest.end(), end, "dash", verb.span("verb"), speaker, "continuation"))
            pos = end
    return found


def _is_sentence(text: str) -> bool:
    inner = text.strip(MARKS + _DASHES + "「」『』 \t\n\u00a0")
    letter = next((c for c in inner if c.isalpha()), "")
    if not letter:
        return False
    words = len(inner.split())
    caseless = not letter.isupper() and not letter.islower()
    return (letter.isupper() and words >= 3) or (caseless and len(inner) >= 8)


def extract_marked_quotes(article: Article, mentions: Sequence[Mention], cues: SpeechCues | None) -> list[Quote]:
    """Direct quotations of `article` by their marks and dialogue dashes, speakers as written."""
    cues = cues or NO_CUES
    text = article.text
    paragraphs = paragraph_spans(text)
    found: list[_Found] = []
    for p_start, p_end in paragraphs:
        found += _dash_speech(text, p_start, p_end, cues)
    dashed = [(f.start, f.end) for f in found]
    for span in find_marked_spans(text):
        if any(s <= span.start < e for s, e in dashed):
            continue  # marks inside a line of dialogue belong to it
        p_start = next((s for s, e in paragraphs if s <= span.start < e), 0)
        hit = (_after(text, span, cues) or _before(text, span, p_start, cues)) if cues.verbs else None
        found.append(hit or _Found(span.start, span.end, "marks"))
    found.sort(key=lambda f: f.start)
    return _to_quotes(article, found, paragraphs, mentions, cues)


def _paragraph_index(paragraphs: list[tuple[int, int]], pos: int) -> int:
    return next((i for i, (_, e) in enumerate(paragraphs) if pos < e), len(paragraphs) - 1)


def _to_quotes(article: Article, found: list[_Found], paragraphs: list[tuple[int, int]],
               mentions: Sequence[Mention], cues: SpeechCues) -> list[Quote]:
    text = article.text
    quotes: list[Quote] = []
    last: tuple[int, tuple[int, int], str | None, tuple[int, int] | None] | None = None  # paragraph, speaker, entity, cue
    for item in found:
        paragraph = _paragraph_index(paragraphs, item.start)
        content = text[item.start : item.end]
        speaker, cue, how, confidence = item.speaker, item.cue, item.how, 0.8
        entity: str | None = None
        if speaker is not None:
            entity = _speaker_entity(text, speaker, mentions, cues, item.start)
            confidence = 0.75 if how == "colon" else 0.8
        elif last is not None and paragraph - last[0] <= 1 and _is_sentence(content):
            _, speaker, entity, cue = last
            how, confidence = "carry_over", 0.6
        elif _is_sentence(content):
            how, confidence = "unattributed", 0.3
        else:
            continue  # a scare quote or a term, not a quotation
        if item.speaker is not None:
            last = (paragraph, item.speaker, entity, item.cue)
        kind = "direct" if _is_sentence(content) else "partial"
        quotes.append(Quote(
            article_id=article.article_id, start=item.start, end=item.end, text=content, kind=kind,
            cue=text[cue[0] : cue[1]] if cue else None, cue_lemma=None,
            cue_start=cue[0] if cue else None, cue_end=cue[1] if cue else None,
            speaker=text[speaker[0] : speaker[1]] if speaker else None,
            speaker_start=speaker[0] if speaker else None, speaker_end=speaker[1] if speaker else None,
            speaker_entity_id=entity, confidence=confidence, method=f"{item.method}_{how}",
        ))
    return quotes


def _speaker_entity(text: str, speaker: tuple[int, int], mentions: Sequence[Mention], cues: SpeechCues,
                    before: int) -> str | None:
    """The speaker's entity: the mention it names, or for a pronoun the last person named before the quote."""
    if not mentions:
        return None
    s, e = speaker
    if text[s:e].lower() in cues.pronouns:
        people = [m for m in mentions if m.label == "PERSON" and m.end <= max(before, s)]
        return people[-1].entity_id if people else None
    mention = mention_at(mentions, s, e)
    return mention.entity_id if mention is not None and mention.label in ("PERSON", "ORG", "NORP", "GPE") else None
