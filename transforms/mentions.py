"""Entity mentions in a spaCy doc: found, cleaned and made consistent within the article.

Mentions come from spaCy NER (plus a gazetteer and true-cased all-caps headlines, see
`transforms.truecase`, added by `transforms.entities.prepare_pipeline`), cleaned ("the",
titles and possessives dropped from the span) and made consistent within the article
(one label per name; a name tagged once is tagged everywhere it recurs).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass

from spacy.tokens import Doc, Span, Token

from transforms.acronyms import parse_acronym_definitions, to_initials
from transforms.gazetteer import FAMILY_FIRST_SURNAMES, to_country, to_country_name, to_demonym_country, to_religion
from transforms.names import TITLES, normalise_name, to_name_key
from transforms.truecase import is_caps_word

# spaCy (OntoNotes) labels that name an entity; numbers and dates are not entities.
ENTITY_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
_INITIAL = re.compile(r"^[A-Z]\.$")
_MAX_NAME_TOKENS = 6


@dataclass(frozen=True)
class MentionSpan:
    """A cleaned mention in a doc: character offsets and spaCy label."""

    start: int
    end: int
    label: str


def find_mentions(doc: Doc) -> list[MentionSpan]:
    """The doc's entity mentions, cleaned and made consistent within the doc."""
    pieces = [piece for ent in doc.ents if ent.label_ in ENTITY_LABELS for piece in _split_span(ent)]
    spans = [s for s in (_clean_span(piece) for piece in pieces) if s is not None]
    spans = _opening_persons(doc, spans)
    spans = _extend_persons(doc, _propagate(doc, _extend_persons(doc, spans)))
    spans = _consistent_labels(spans)
    return [MentionSpan(s.start_char, s.end_char, s.label_) for s in sorted(spans, key=lambda s: s.start)]


_SPLIT_PUNCT = frozenset({",", "(", ")", "[", "]", ":", ";", "/", "|", "–", "—", "\"", "“", "”"})


def _is_separator(token: Token) -> bool:
    """A token no name runs across: a comma, bracket, free-standing dash, bare number or line break."""
    text = token.text
    if text in _SPLIT_PUNCT or not text.strip():
        return True
    if text.lower() in {"'s", "’s"} and token.i + 1 < len(token.doc) and token.whitespace_:
        return True  # "Farrakhan 's Nation of Islam": two names
    if text == "-" and token.whitespace_ and token.i > 0 and token.doc[token.i - 1].whitespace_:
        return True
    return any(ch.isdigit() for ch in text) and not any(ch.isalpha() for ch in text)


def _split_span(span: Span) -> list[Span]:
    """Cut an entity at tokens no name runs across ("Romania - Cosmin Contra", "Somerset 4")."""
    pieces, start = [], span.start
    for token in span:
        if _is_separator(token):
            if token.i > start:
                pieces.append(Span(span.doc, start, token.i, label=span.label_))
            start = token.i + 1
        elif "\n" in token.whitespace_:
            pieces.append(Span(span.doc, start, token.i + 1, label=span.label_))
            start = token.i + 1
    if span.end > start:
        pieces.append(Span(span.doc, start, span.end, label=span.label_))
    return pieces


def _clean_span(span: Span) -> Span | None:
    """Drop a leading "the", leading titles (persons), a trailing possessive and punctuation."""
    start, end = span.start, span.end
    doc = span.doc
    while end > start and (doc[end - 1].text in {"'s", "’s", "'", "’"} or doc[end - 1].is_punct
                           and doc[end - 1].text not in {".", ")"}):
        end -= 1
    while end - start > 1 and (doc[start].lower_ == "the" or doc[start].is_punct):
        if doc[start].text == "The" and normalise_name(doc[start:end].text) != doc[start + 1:end].text:
            break  # "The Hague" keeps its article
        start += 1
    if span.label_ == "PERSON":
        while end - start > 1 and doc[start].lower_.rstrip(".") in TITLES:
            start += 1
    if end <= start:
        return None
    text = doc[start:end].text
    if not any(ch.isalpha() for ch in text):
        return None
    return Span(doc, start, end, label=span.label_)


# "Jamal Price, a senior who wrote the proposal, said ...": a name that opens a sentence, followed by
# a speech verb, or by an apposition that describes a person and then a speech verb.
_SAID = frozenset("""said says told tells added adds explained explains noted notes wrote writes argued argues
    insisted insists recalled recalls warned warns stressed stresses admitted admits announced announces replied
    replies responded responds recalled claimed claims testified testifies""".split())
_PERSON_NOUNS = TITLES | frozenset("""senior junior student freshman sophomore graduate resident teacher worker nurse
    doctor lawyer attorney parent mother father son daughter wife husband widow farmer owner member fan volunteer
    organizer organiser activist candidate voter researcher scientist engineer designer artist player survivor
    victim witness neighbor neighbour friend colleague veteran retiree mom dad grandmother grandfather""".split())
_APPOSITION_MAX = 16  # tokens between the commas


def _opening_persons(doc: Doc, spans: list[Span]) -> list[Span]:
    """Persons opening a sentence that spaCy missed or took for an organisation.

    Two or three capitalised words at a sentence's start, then "said" (when untagged), or then an
    apposition naming a person's role or age ("a senior who ...", "the club's coach", "34") and
    "said" (also when tagged as something else): the words are a person's name.
    """
    owner = {i: s for s in spans for i in range(s.start, s.end)}
    relabel: dict[int, Span] = {}
    added: list[Span] = []
    for sent in doc.sents:
        start = end = sent.start
        while end < sent.end and end - start < 3 and _name_word(doc[end]):
            end += 1
        if end - start < 2 or end >= sent.end or to_country(doc[start:end].text):
            continue
        evidence = _said_after(doc, end, sent.end)
        covering = {id(owner[i]): owner[i] for i in range(start, end) if i in owner}
        if evidence is None or end < sent.end and doc[end].text[:1].isupper() and doc[end].is_alpha:
            continue
        if not covering:
            added.append(Span(doc, start, end, label="PERSON"))
        elif evidence == "person" and len(covering) == 1:
            [span] = covering.values()
            if (span.start, span.end) == (start, end) and span.label_ in ("ORG", "PERSON"):
                relabel[span.start] = Span(doc, start, end, label="PERSON")
    return [relabel.get(s.start, s) for s in spans] + added


def _name_word(token: Token) -> bool:
    text = token.text
    return (token.is_alpha and len(text) > 1 and text[0].isupper() and not text.isupper() and not token.is_stop
            and text.lower() not in TITLES)


def _said_after(doc: Doc, i: int, end: int) -> str | None:
    """"said" when a speech verb follows at `i`; "person" when an apposition describing a person
    and a speech verb follow; otherwise None."""
    if doc[i].lower_ in _SAID:
        return "said"
    if doc[i].text != ",":
        return None
    close = next((k for k in range(i + 1, min(end, i + 2 + _APPOSITION_MAX)) if doc[k].text == ","), None)
    if close is None or close + 1 >= end or doc[close + 1].lower_ not in _SAID:
        return None
    apposition = doc[i + 1:close]
    words = {t.lower_ for t in apposition}
    if "who" in words or words & _PERSON_NOUNS or (len(apposition) == 1 and apposition[0].like_num):
        return "person"
    return None


def _propagate(doc: Doc, spans: list[Span]) -> list[Span]:
    """Tag untagged recurrences of names already tagged in the doc (and persons' short forms)."""
    names: dict[tuple[str, ...], str] = {}
    for span in spans:
        words = tuple(t.lower_ for t in span)
        if len(words) <= _MAX_NAME_TOKENS:
            names.setdefault(words, span.label_)
        if span.label_ == "PERSON" and len(span) >= 2:
            names.setdefault((span[-1].lower_,), "PERSON")
            if span[0].text in FAMILY_FIRST_SURNAMES:
                names.setdefault((span[0].lower_,), "PERSON")
    acronyms = {key for key in parse_acronym_definitions(doc.text) if " " not in key}
    acronyms |= {to_initials(span.text) for span in spans if span.label_ == "ORG"} - {""}
    for acronym in acronyms:
        names.setdefault((acronym,), "ORG")
    if not names:
        return spans
    # Token attributes read once: indexing a Doc creates a Token object per access.
    texts = [t.text for t in doc]
    lowers = [w.lower() for w in texts]  # spaCy's lower_ and is_alpha are these string methods
    alpha = [w.isalpha() for w in texts]
    lower_words = {w for w, a in zip(texts, alpha) if a and w.islower()}
    taken = {i for s in spans for i in range(s.start, s.end)}
    added: list[Span] = []
    longest = max(len(k) for k in names)
    first_words = {k[0] for k in names}
    i = 0
    size = len(texts)
    while i < size:
        if i in taken or not texts[i][:1].isupper() or lowers[i] not in first_words:
            i += 1
            continue
        for n in range(min(longest, size - i), 0, -1):
            key = tuple(lowers[i:i + n])
            label = names.get(key)
            if label is None or any(j in taken for j in range(i, i + n)):
                continue
            if n == 1 and key[0] in acronyms and not texts[i].isupper():
                continue
            if n == 1 and (doc[i].is_stop or lowers[i] in lower_words or len(texts[i]) < 2):
                continue
            caps = is_caps_word(texts[i])  # an all-caps line: neighbours are capitalised anyway
            if not caps and i + n < size and texts[i + n][:1].isupper() and alpha[i + n]:
                continue  # part of a longer capitalised name
            if (not caps and i > 0 and texts[i - 1][:1].isupper() and alpha[i - 1]
                    and not doc[i - 1].is_sent_start):
                continue
            added.append(Span(doc, i, i + n, label=label))
            i += n - 1
            break
        i += 1
    return spans + added


def _extend_persons(doc: Doc, spans: list[Span]) -> list[Span]:
    """Grow a person's span over the untagged rest of a name tagged elsewhere ("Aung San" + "Suu Kyi")
    and over the initials before it ("D." + "Gough")."""
    persons = {tuple(t.lower_ for t in s) for s in spans if s.label_ == "PERSON"}
    taken = {i for s in spans for i in range(s.start, s.end)}
    single = {s.start: s for s in spans if len(s) == 1}
    dropped: set[int] = set()
    result = []
    for span in spans:
        start, end = span.start, span.end
        if span.label_ == "PERSON":
            while start > 0 and _INITIAL.match(doc[start - 1].text) and doc[start - 1].whitespace_:
                if start - 1 in taken and start - 1 not in single:
                    break
                start -= 1
                dropped.add(start)
            for n in (3, 2, 1):
                tail = doc[span.end:span.end + n]
                if (len(tail) == n and tuple(t.lower_ for t in tail) in persons and span[-1].whitespace_ != ""
                        and all(t.is_alpha and t.text[:1].isupper() and t.i not in taken for t in tail)):
                    end = span.end + n
                    break
        result.append(span if (start, end) == (span.start, span.end) else Span(doc, start, end, label=span.label_))
    return [s for s in result if not (len(s) == 1 and s.start in dropped)]


def _consistent_labels(spans: list[Span]) -> list[Span]:
    """One label per name in a doc: the majority; a person's short form stays a person."""
    by_key: dict[str, Counter[str]] = defaultdict(Counter)
    for span in spans:
        by_key[to_name_key(span.text)][span.label_] += 1
    surnames = {to_name_key(s[-1].text) for s in spans if s.label_ == "PERSON" and len(s) >= 2}
    short_persons = {to_name_key(s.text) for s in spans if s.label_ == "PERSON" and len(s) == 1}
    result = []
    for span in spans:
        key = to_name_key(span.text)
        label = span.label_
        if key in surnames and label != "PERSON" and not to_country(span.text):
            label = "PERSON"
        elif label != "NORP" and len(span) <= 2 and _is_demonym(span.text):
            label = "NORP"
        elif (label == "ORG" and 2 <= len(span) <= 3 and to_name_key(span[-1].text) in short_persons
              and all(t.is_title for t in span) and by_key[key]["PERSON"] == 0):
            label = "PERSON"
        else:
            label = by_key[key].most_common(1)[0][0]  # ties: the label seen first
        result.append(span if label == span.label_ else Span(span.doc, span.start, span.end, label=label))
    return result


def _is_demonym(text: str) -> bool:
    """A demonym or a religion's adherents ("Briton", "Moslems"), not a country name."""
    return bool((to_demonym_country(text) or to_religion(text)) and not to_country_name(text))
