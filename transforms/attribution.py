"""Attribution from the dependency parse: cues, their speakers and their content.

A cue is a reporting verb ("said", "told", "argued", ...), the phrase
"according to", or a colon / dash next to a quotation. Its speaker is the
verb's subject (the whole noun phrase, appositions and relative clauses
included, as a reader would quote it: "Kenneth Baer, a former official who
runs Crosscut Strategies"); "according to X" takes X. The content of a cue
is its clausal complement ("says (that) ..."), or the main clause the cue is
attached to ("..., sources said"; "according to X, ..."), cut at clause
boundaries and trimmed of edge punctuation.

The speaker's entity is the mention that covers the head of the speaker
phrase ("a Kremlin insider" has none even though "Kremlin" is an ORG);
pronouns ("he", "she") point at the most recent person quoted or named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from transforms.models import Mention

# Verbs that introduce speech (direct quotes are attributed only through these).
SPEECH_VERBS = frozenset(
    """say tell add write ask note explain continue argue insist recall declare state reply respond
    claim warn emphasize emphasise stress admit acknowledge announce tweet post report conclude
    suggest predict promise vow pledge joke quip complain observe remark comment concede confirm
    deny agree shout scream cry exclaim whisper testify read urge caution boast lament muse maintain
    contend assert allege reiterate recount proclaim demand wonder assure counter retort interject
    mutter describe call answer explain repeat admit lament plead charge criticize criticise
    praise accuse thank tout speak declare affirm inform advise implore beg order instruct
    predict estimate""".split()
)
# Verbs of belief, perception and evidence that attribute a clause (indirect only).
CLAUSE_VERBS = SPEECH_VERBS | frozenset(
    """believe think show find know expect hope fear feel worry indicate reveal learn consider doubt
    realize realise signal suspect assume guess imagine recognize recognise hear understand
    agree decide determine conclude discover notice see forecast project calculate
    insist reckon figure acknowledge""".split()
)
PRONOUNS = frozenset({"he", "she", "him", "her"})
_SUBJECTS = ("nsubj", "nsubjpass")
_EDGE = " \t\n\r\u00a0,;:.—–-"


@dataclass(frozen=True)
class Cue:
    """One attribution cue found in the parse; char offsets into the doc text."""

    start: int
    end: int
    lemma: str
    head: int  # token index of the cue's main token
    speaker: tuple[int, int] | None  # char span
    speaker_head: int | None  # token index of the speaker phrase's head
    content: tuple[int, int] | None  # char span of the clause attributed (indirect)


def trim(text: str, start: int, end: int, edge: str = _EDGE) -> tuple[int, int]:
    """Shrink [start, end) past whitespace and edge punctuation on both sides."""
    while start < end and text[start] in edge:
        start += 1
    while end > start and text[end - 1] in edge:
        end -= 1
    return start, end


def _span_chars(doc: Doc, first: int, last: int) -> tuple[int, int]:
    return trim(doc.text, doc[first].idx, doc[last].idx + len(doc[last].text))


def _subject(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ in _SUBJECTS:
            return child
    # "X stood up and said ...", "X wanted to say ...": the subject of the governing verb
    if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head is not verb:
        for child in verb.head.children:
            if child.dep_ in _SUBJECTS and child.i < verb.i:
                return child
    if verb.dep_ == "relcl":  # "X, who ... said"
        return verb.head
    return None


def _speaker(subject: Token) -> tuple[tuple[int, int], Token] | None:
    if subject.lower_ in ("who", "that", "which") and subject.head.dep_ == "relcl":
        subject = subject.head.head
    if subject.pos_ == "PRON" and subject.lower_ not in PRONOUNS | {"i", "we", "they", "you", "it"}:
        return None
    first, last = subject.left_edge.i, subject.right_edge.i
    if subject.dep_ == "relcl" or subject.head.dep_ == "relcl":
        last = subject.i
    return _span_chars(subject.doc, first, last), subject


def _clause(doc: Doc, root: Token, exclude: Token | None = None) -> tuple[int, int] | None:
    """Char span of `root`'s subtree, minus the subtree of `exclude` at either edge."""
    first, last = root.left_edge.i, root.right_edge.i
    if exclude is not None:
        ex_first, ex_last = exclude.left_edge.i, exclude.right_edge.i
        if ex_first <= first <= ex_last:
            first = ex_last + 1
        elif ex_first <= last <= ex_last:
            last = ex_first - 1
        elif first < ex_first and ex_last < last:
            # the cue sits in the middle: keep the longer side
            if ex_first - first >= last - ex_last:
                last = ex_first - 1
            else:
                first = ex_last + 1
    if first > last:
        return None
    start, end = _span_chars(doc, first, last)
    return (start, end) if end > start else None


def _according(token: Token) -> Cue | None:
    to = next((c for c in token.children if c.lower_ == "to"), None)
    if to is None:
        return None
    obj = next((c for c in to.children if c.dep_ == "pobj"), None)
    if obj is None:
        return None
    start, end = token.idx, to.idx + len(to.text)
    speaker = _span_chars(token.doc, obj.left_edge.i, obj.right_edge.i)
    content = _clause(token.doc, token.head, token) if token.head is not token else None
    return Cue(start, end, "according to", token.i, speaker, obj.i, content)


def _verb_cue(verb: Token) -> Cue | None:
    doc = verb.doc
    subject = _subject(verb)
    found = _speaker(subject) if subject is not None else None
    speaker, speaker_head = (found[0], found[1].i) if found else (None, None)
    content = None
    complement = next((c for c in verb.children if c.dep_ == "ccomp"), None)
    if complement is not None:
        content = _clause(doc, complement)
    elif verb.dep_ in ("ccomp", "parataxis") and verb.head.i < verb.i and verb.lemma_ in CLAUSE_VERBS:
        content = _clause(doc, verb.head, verb)  # "..., sources said"
    end = verb.idx + len(verb.text)
    particle = next((c for c in verb.children if c.dep_ == "prt" and c.i == verb.i + 1), None)
    if particle is not None:
        end = particle.idx + len(particle.text)
    return Cue(verb.idx, end, verb.lemma_.lower(), verb.i, speaker, speaker_head, content)


def find_cues(doc: Doc) -> list[Cue]:
    """Every cue in the doc, with its speaker and clausal content where the parse gives them."""
    cues: list[Cue] = []
    cue: Cue | None
    for token in doc:
        if token.lower_ == "according" and token.dep_ == "prep":
            cue = _according(token)
        elif token.pos_ in ("VERB", "AUX") and token.lemma_.lower() in CLAUSE_VERBS:
            if token.dep_ in ("amod", "compound") or token.dep_ == "acl" and token.tag_ == "VBN":
                continue  # "the said report", "the report found in ..."
            cue = _verb_cue(token)
            if cue is None or cue.content is None and cue.lemma not in SPEECH_VERBS:
                continue
        else:
            continue
        if cue is not None:
            cues.append(cue)
    return cues


def mention_at(mentions: Sequence[Mention], start: int, end: int) -> Mention | None:
    """The mention covering [start, end), else the last one inside it."""
    for mention in mentions:
        if mention.start <= start and end <= mention.end:
            return mention
    inside = [m for m in mentions if start <= m.start and m.end <= end]
    return inside[-1] if inside else None


def speaker_mention(doc: Doc, head: int | None, mentions: Sequence[Mention]) -> Mention | None:
    """The mention for the head of a speaker phrase, following compounds and appositions."""
    if head is None:
        return None
    token = doc[head]
    # a name's parts ("Andrei" in "Andrei Piontkowski") and appositions, but not a
    # noun's modifiers ("Kremlin" in "a Kremlin insider")
    deps = ("appos", "compound") if token.pos_ == "PROPN" else ("appos",)
    candidates = [token] + [c for c in token.children if c.dep_ in deps and c.pos_ == "PROPN"]
    for candidate in candidates:
        mention = mention_at(mentions, candidate.idx, candidate.idx + len(candidate.text))
        if mention is not None and mention.label in ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "PRODUCT"):
            return mention
    return None


def is_pronoun(doc: Doc, head: int | None) -> bool:
    return head is not None and doc[head].lower_ in PRONOUNS


def sentence_region(doc: Doc, start: int, end: int) -> Span:
    """The sentence(s) around [start, end), extended over a cue split off by the parser."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        return doc[0:0]
    first, last = span[0].sent, span[-1].sent
    begin, finish = first.start, last.end
    if finish < len(doc):
        following = doc[finish].sent
        after_quote = doc[finish - 1].is_quote or doc[finish - 1].text in "”»\"’"
        speech = any(t.lemma_.lower() in SPEECH_VERBS and t.pos_ == "VERB" for t in following[:6])
        if following[0].is_lower or following[0].lemma_.lower() in SPEECH_VERBS or following[0].is_punct or (
            after_quote and speech
        ):
            finish = following.end
    if begin > 0:
        preceding = doc[begin - 1].sent
        if preceding[-1].text in (":", ",") or first[0].is_lower:
            begin = preceding.start
    return doc[begin:finish]
