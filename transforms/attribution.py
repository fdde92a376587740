"""Attribution from the dependency parse: cues, their speakers and their content.

A cue is a reporting verb ("said", "told", "argued", ...), the phrase
"according to", or a colon / dash next to a quotation. Its speaker is the
verb's subject (the whole noun phrase, appositions and relative clauses
included, as a reader would quote it: "Kenneth Baer, a former official who
runs Crosscut Strategies"); "according to X" takes X. The content of a cue
is its clausal complement ("says (that) ..."), or the main clause the cue is
attached to ("..., sources said"; "according to X, ..."), cut at clause
boundaries and trimmed of edge punctuation.

Spans follow PolNeAR (train split): the cue is the verb group ("has also said",
"did not deny", "is trying to show", "called for", "said in a statement", "said
Friday"); a relative pronoun is the source as written ("a lawyer, who said ...":
"who"), its entity the antecedent's; besides speech and belief, verbs of stance
attribute their object ("X endorsed Cruz", "the poll showed Clinton ahead").

Which entity a speaker is (the mention at the head of the speaker phrase; a
pronoun's person) is found in `transforms.speakers`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

# Verbs that introduce speech (direct quotes are attributed only through these).
SPEECH_VERBS = frozenset(
    """say tell add write ask note explain continue argue insist recall declare state reply respond
    claim warn emphasize emphasise stress admit acknowledge announce tweet post report conclude
    suggest predict promise vow pledge joke quip complain observe remark comment concede confirm
    deny agree shout scream cry exclaim whisper testify read urge caution boast lament muse maintain
    contend assert allege reiterate recount proclaim demand wonder assure counter retort interject
    mutter describe call answer explain repeat admit lament plead charge criticize criticise
    praise accuse thank tout declare affirm inform advise implore beg order instruct
    predict estimate""".split()
)
# Verbs of belief, perception and evidence that attribute a clause (indirect only).
CLAUSE_VERBS = SPEECH_VERBS | frozenset(
    """believe think show find know expect hope fear worry indicate reveal learn consider doubt
    realize realise signal suspect assume guess imagine recognize recognise hear
    agree determine conclude discover notice forecast project calculate
    insist reckon figure acknowledge""".split()
)
# Verbs that PolNeAR's annotators mark as an attribution cue in at least 40% of their
# uses in the train split (lemmas as the small English pipeline gives them, "hop" for
# "hoping" included), from `python -m evaluation.train_quotes`, plus "support want talk"
# (rarer cues that still pay on the train split). Besides the verbs of speech and
# belief they attribute a stance or an object: "called for a ban", "declined to
# comment", "the poll showed Clinton ahead", "endorsed Cruz".
OBJECT_VERBS = frozenset(
    """call accuse endorse appear criticize offer seek seem back describe acknowledge respond tweet
    expect cite reveal refuse decline refer oppose point promise explain defend question hop
    declare propose vow discuss urge warn insist reply indicate conclude blast mention worry denounce
    state predict deny charge list order promote blame remember deem recognize recall fear pledge
    underscore praise email assert dismiss favor demand hope reject rail highlight fire emphasize
    complain slam apologize concede joke tout demonstrate remark estimate convince disclose echo
    realize allege imply remind reiterate boast condemn allude recommend caution confirm dispute
    detail advocate inform interject contend hint shout chant applaud portray proclaim balk
    attribute rebuke plead talk support want""".split()
)
CUE_VERBS = CLAUSE_VERBS | OBJECT_VERBS
PRONOUNS = frozenset({"he", "she", "him", "her"})
RELATIVES = frozenset({"who", "that", "which"})
# what a cue verb attributes when it has no clause: its object and complements
_OBJECT_DEPS = frozenset({"dobj", "xcomp", "oprd", "ccomp", "attr", "acomp", "dative"})
_CUE_LEFT = frozenset({"aux", "auxpass", "neg", "advmod"})
_CUE_PREPS = frozenset({"about", "for", "to", "against", "on", "of", "with", "by", "over"})
_CUE_RIGHT = frozenset(
    "back out monday tuesday wednesday thursday friday saturday sunday yesterday today tonight".split()
)
_MEDIA = frozenset({"statement", "release", "post", "book", "filing"})
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


def _span_chars(doc: Doc, first: int, last: int, text: str) -> tuple[int, int]:
    """Char span of tokens first..last, trimmed; `text` is `doc.text` (which spaCy joins anew on every call)."""
    return trim(text, doc[first].idx, doc[last].idx + len(doc[last].text))


def _subject(verb: Token) -> Token | None:
    for child in verb.children:
        if child.dep_ in _SUBJECTS:
            return child
    # "X stood up and said ...", "X wanted to say ...": the subject of the governing verb
    if verb.dep_ in ("conj", "xcomp", "advcl") and verb.head.i != verb.i:
        for child in verb.head.children:
            if child.dep_ in _SUBJECTS and child.i < verb.i:
                return child
    if verb.dep_ == "relcl":  # "X, who ... said"
        return verb.head
    return None


def _speaker(subject: Token, text: str) -> tuple[tuple[int, int], Token] | None:
    if subject.lower_ in RELATIVES and subject.head.dep_ == "relcl":
        return (subject.idx, subject.idx + len(subject.text)), subject  # PolNeAR's source: "who"
    if subject.pos_ == "PRON" and subject.lower_ not in PRONOUNS | {"i", "we", "they", "you", "it"}:
        return None
    first, last = subject.left_edge.i, subject.right_edge.i
    if subject.dep_ == "relcl" or subject.head.dep_ == "relcl":
        last = subject.i
    return _span_chars(subject.doc, first, last, text), subject


def _clause(doc: Doc, text: str, root: Token, exclude: Token | None = None) -> tuple[int, int] | None:
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
    start, end = _span_chars(doc, first, last, text)
    return (start, end) if end > start else None


def _according(token: Token, text: str) -> Cue | None:
    to = next((c for c in token.children if c.lower_ == "to"), None)
    if to is None:
        return None
    obj = next((c for c in to.children if c.dep_ == "pobj"), None)
    if obj is None:
        return None
    start, end = token.idx, to.idx + len(to.text)
    speaker = _span_chars(token.doc, obj.left_edge.i, obj.right_edge.i, text)
    content = _clause(token.doc, text, token.head, token) if token.head.i != token.i else None
    return Cue(start, end, "according to", token.i, speaker, obj.i, content)


def _cue_bounds(verb: Token, text: str) -> tuple[int, int, Token | None]:
    """The cue's char span and the preposition that introduces its content, if any.

    PolNeAR's cue is the verb group: auxiliaries, negation and adverbs on the left
    ("has also said", "did not deny"), a governing verb the cue depends on ("is trying
    to show"), a particle or "back", a weekday ("said Friday"), the preposition that
    introduces the content ("called for", "talked about") or the medium ("said in a
    statement").
    """
    doc = verb.doc
    first = _left_bound(verb)
    if verb.dep_ == "xcomp" and verb.head.i < verb.i and verb.head.pos_ in ("VERB", "AUX", "ADJ"):
        first = _left_bound(verb.head)  # "is trying to show", "was quick to add"
    last = verb.i
    prep: Token | None = None
    for _ in range(2):
        following = doc[last + 1] if last + 1 < len(doc) else None
        if following is None or following.head.i != verb.i:
            break
        if following.dep_ == "prt" or following.dep_ in ("npadvmod", "advmod") and following.lower_ in _CUE_RIGHT:
            last += 1
        elif following.dep_ == "prep" and prep is None:
            objects = [c for c in following.children if c.dep_ in ("pobj", "pcomp")]
            if objects and following.lower_ == "in" and objects[0].lemma_.lower() in _MEDIA:
                last = objects[0].right_edge.i
            elif objects and following.lower_ in _CUE_PREPS and verb.lemma_.lower() not in SPEECH_VERBS - {"call"}:
                last, prep = following.i, following
            break
    start, end = _span_chars(doc, first, last, text)
    return start, end, prep


def _left_bound(verb: Token) -> int:
    doc = verb.doc
    first = verb.i
    while first > 0 and doc[first - 1].head.i == verb.i and doc[first - 1].dep_ in _CUE_LEFT and (
        doc[first - 1].tag_ not in ("WRB", "WDT", "WP")
    ):
        first -= 1
    return first


def _object_content(verb: Token, prep: Token | None, text: str) -> tuple[int, int] | None:
    """What a stance verb attributes: its object and complements to its right."""
    doc = verb.doc
    parts = [c for c in verb.children if c.i > verb.i and c.dep_ in _OBJECT_DEPS]
    if prep is not None:
        parts += [c for c in prep.children if c.dep_ in ("pobj", "pcomp")]
    if not parts:
        return None
    if any(c.dep_ == "dobj" for c in parts):  # "accused X of ...", "defended X as ..."
        parts += [c for c in verb.children if c.dep_ == "prep" and c.lower_ in ("of", "for", "as") and c.i > verb.i]
    first = min(c.left_edge.i for c in parts)
    last = max(c.right_edge.i for c in parts)
    start, end = _span_chars(doc, first, last, text)
    return (start, end) if end > start else None


def _same_paragraph(verb: Token, other: Token) -> bool:
    """No line break between `verb` and the near edge of `other`'s subtree (the parser
    sometimes runs a sentence over a paragraph break)."""
    first, last = (verb.i, other.left_edge.i) if other.i > verb.i else (other.right_edge.i, verb.i)
    return not any("\n" in t.text_with_ws for t in verb.doc[first:last])


def _verb_cue(verb: Token, text: str) -> Cue | None:
    doc = verb.doc
    subject = _subject(verb)
    found = _speaker(subject, text) if subject is not None else None
    speaker, speaker_head = (found[0], found[1].i) if found else (None, None)
    start, end, prep = _cue_bounds(verb, text)
    lemma = verb.lemma_.lower()
    content = None
    complements = [c for c in verb.children if c.dep_ == "ccomp" and _same_paragraph(verb, c)]
    complement = min(complements, key=lambda c: abs(c.i - verb.i)) if complements else None
    if complement is not None:
        content = _clause(doc, text, complement)
    elif verb.dep_ in ("ccomp", "parataxis") and verb.head.i != verb.i and lemma in CLAUSE_VERBS and (
        _same_paragraph(verb, verb.head)
    ) and (verb.head.i < verb.i or not any(t.is_quote for t in verb.sent)):
        # "..., sources said"; "The plan, aides said, is to wait": PolNeAR's content runs
        # around a cue inside its clause, so the hull is the whole clause
        around = verb.head.i > verb.i and not any(t.is_quote for t in verb.head.subtree)
        content = _clause(doc, text, verb.head, None if around else verb)
    elif lemma in OBJECT_VERBS or prep is not None and lemma not in SPEECH_VERBS:
        content = _object_content(verb, prep if lemma not in SPEECH_VERBS - {"call"} else None, text)
    return Cue(start, end, lemma, verb.i, speaker, speaker_head, content)


def find_cues(doc: Doc, text: str | None = None) -> list[Cue]:
    """Every cue in the doc, with its speaker and clausal content where the parse gives them.

    `text` is `doc.text` when the caller has it (spaCy joins the tokens anew on every access).
    """
    text = doc.text if text is None else text
    cues: list[Cue] = []
    cue: Cue | None
    for token in doc:
        if token.lower_ == "according" and token.dep_ == "prep":
            cue = _according(token, text)
        elif token.pos_ in ("VERB", "AUX") and token.lemma_.lower() in CUE_VERBS:
            if token.dep_ in ("amod", "compound") or token.dep_ == "acl" and token.tag_ == "VBN":
                continue  # "the said report", "the report found in ..."
            if token.dep_ == "xcomp" and token.head.lemma_.lower() in CUE_VERBS and token.head.pos_ == "VERB":
                continue  # "declined to comment", "wants to say": the governing verb is the cue
            cue = _verb_cue(token, text)
            if cue is None or cue.content is None and cue.lemma not in SPEECH_VERBS:
                continue
        else:
            continue
        if cue is not None:
            cues.append(cue)
    return cues


class Sentences:
    """The sentence of every token, found once: `Token.sent` walks its whole sentence on every call."""

    def __init__(self, doc: Doc) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        for sent in doc.sents:
            self.starts.append(sent.start)
            self.ends.append(sent.end)

    def of(self, i: int) -> tuple[int, int]:
        """(first token, end token) of token `i`'s sentence."""
        k = bisect_right(self.starts, i) - 1
        return self.starts[k], self.ends[k]


def sentence_region(doc: Doc, start: int, end: int, sentences: Sentences | None = None) -> Span:
    """The sentence(s) around [start, end), extended over a cue split off by the parser."""
    span = doc.char_span(start, end, alignment_mode="expand")
    if span is None or len(span) == 0:
        return doc[0:0]
    sents = sentences or Sentences(doc)
    begin, first_end = sents.of(span.start)
    finish = sents.of(span.end - 1)[1]
    if finish < len(doc):
        following_end = sents.of(finish)[1]
        after_quote = doc[finish - 1].is_quote or doc[finish - 1].text in "”»\"’"
        speech = any(t.lemma_.lower() in SPEECH_VERBS and t.pos_ == "VERB" for t in doc[finish : min(following_end, finish + 6)])
        head = doc[finish]
        if head.is_lower or head.lemma_.lower() in SPEECH_VERBS or head.is_punct or (after_quote and speech):
            finish = following_end
    if begin > 0:
        if doc[begin - 1].text in (":", ",") or doc[begin].is_lower:
            begin = sents.of(begin - 1)[0]
    return doc[begin:finish]
