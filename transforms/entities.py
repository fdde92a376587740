"""Entity mentions and their resolution to canonical entities.

Mentions come from spaCy NER (plus a gazetteer and true-cased all-caps
headlines, see `transforms.truecase`, added by `prepare_pipeline`), cleaned ("the", titles and
possessives dropped from the span) and made consistent within the article
(one label per name; a name tagged once is tagged everywhere it recurs).

Resolution, within the article: countries and their short forms ("US",
"U.S.", "America") to one country; acronyms to their expansion (the
article's own "World Health Organization (WHO)", else the gazetteer's);
a person's short form ("Schmid", and "Xi" for the family-name-first
"Xi Jinping") to the full name found in the article. Across articles: the
`known` entities resolve a short form only when exactly one known person
fits, or when the article's context (another part of the name) decides.
Demonyms (NORP, "Russian") keep their own entity; `to_country` links them.
In a match report of a team sport (`to_team_sport`), a country named as a side
("Germany beat Spain") is its national team; "in Germany" stays the country.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span, Token

from transforms.gazetteer import (
    FAMILY_FIRST_SURNAMES,
    gazetteer_patterns,
    to_country,
    to_country_name,
    to_demonym_country,
    to_organisation,
    to_religion,
)
from transforms.ids import to_coarse_type, to_entity_id
from transforms.models import Article, Entity, Mention
from transforms.names import TITLES, normalise_name, normalise_person_name, to_name_key
from transforms.truecase import is_caps_word

__all__ = [
    "ENTITY_LABELS",
    "MentionSpan",
    "extract_entities",
    "find_mentions",
    "prepare_pipeline",
    "to_country",
    "to_team_sport",
]

# spaCy (OntoNotes) labels that name an entity; numbers and dates are not entities.
ENTITY_LABELS: frozenset[str] = frozenset(
    {"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"}
)
# Short all-caps words that the gazetteer must not tag in an all-caps headline.
_RULER_SKIP = frozenset({"WHO", "AU", "EC", "Fed", "GB", "CIS", "Lao", "Pole", "Turk", "Scot", "Finn", "Dane"})
_ACRONYM_PAREN = re.compile(r"\(\s*[A-Z][A-Za-z0-9&.]{1,9}\s*\)")
_ACRONYM_WINDOW = 240  # characters before "(WHO)" that may hold its expansion
_ACRONYM_DEF = re.compile(
    r"((?:[A-Z][\w&'’.-]*)(?:\s+(?:of|the|for|and|on|in|de|du|des|la|le|[A-Z][\w&'’.-]*))*)\s*\(\s*"
    r"([A-Z][A-Za-z0-9&.]{1,9})\s*\)"
)
_INITIAL = re.compile(r"^[A-Z]\.$")
_NAME_STOP = frozenset({"of", "the", "for", "and", "on", "in", "de", "du", "des", "la", "le", "&"})
_MAX_NAME_TOKENS = 6
# Team sports by the words their reports use: a country that plays one is its national team.
_TEAM_SPORTS: dict[str, frozenset[str]] = {
    "football": frozenset("soccer striker strikers midfielder midfielders goalkeeper goalkeepers equaliser equalizer "
                          "penalty goal goals halftime half-time fifa uefa friendly qualifier".split()),
    "cricket": frozenset("cricket wicket wickets innings bowler bowlers batsman batsmen bowled lbw overs "
                         "all-rounder test".split()),
    "rugby": frozenset("rugby tries scrum scrum-half fly-half flanker lineout conversions prop hooker".split()),
    "ice hockey": frozenset("hockey puck nhl goaltender power-play".split()),
    "basketball": frozenset("basketball rebounds nba three-pointer".split()),
}
_PLACE_WORDS = frozenset({"in", "at", "from", "to", "into", "across", "of", "visit", "visited", "visiting", "via"})
_WORD = re.compile(r"[\w-]+")


@dataclass(frozen=True)
class MentionSpan:
    """A cleaned mention in a doc: character offsets and spaCy label."""

    start: int
    end: int
    label: str


# --- pipeline -----------------------------------------------------------------------------------


def prepare_pipeline(nlp: Language, truecase: bool = True, gazetteer: bool = True) -> Language:
    """Add the gazetteer (countries, demonyms, organisations) and headline true-casing.

    Idempotent: calling it twice adds nothing more. Returns `nlp` itself.
    """
    if gazetteer and "newsdesk_gazetteer" not in nlp.pipe_names and "ner" in nlp.pipe_names:
        ruler = nlp.add_pipe("entity_ruler", name="newsdesk_gazetteer", after="ner",
                             config={"overwrite_ents": False, "phrase_matcher_attr": "ORTH"})
        patterns = [p for p in gazetteer_patterns() if p["pattern"] not in _RULER_SKIP]
        ruler.add_patterns(patterns)  # type: ignore[attr-defined]
    if truecase and "newsdesk_truecase" not in nlp.pipe_names and "ner" in nlp.pipe_names:
        nlp.add_pipe("newsdesk_truecase", last=True)
    return nlp


# --- mention finding ----------------------------------------------------------------------------


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
    acronyms = {key for key in _acronym_definitions(doc.text) if " " not in key}
    acronyms |= {_initials(span.text) for span in spans if span.label_ == "ORG"} - {""}
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


def _initials(name: str) -> str:
    """"fomc" for "Federal Open Market Committee"; "" unless three or more capitalised words."""
    words = [w for w in normalise_name(name).split() if w.lower() not in _NAME_STOP]
    if len(words) < 3 or not all(w[:1].isupper() and w.isalpha() for w in words):
        return ""
    return "".join(w[0] for w in words).lower()


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


# --- resolution ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Resolved:
    span: MentionSpan
    canonical: str
    label: str
    method: str


def extract_entities(
    docs: Sequence[Doc], articles: Sequence[Article], known: Sequence[Entity] = ()
) -> tuple[list[Mention], list[Entity]]:
    """Resolved mentions of every article and the distinct entities they refer to."""
    if len(docs) != len(articles):
        raise ValueError(f"{len(docs)} docs for {len(articles)} articles: pass one doc per article")
    found = [find_mentions(doc) for doc in docs]
    index = _KnownIndex(known)
    # Full names anywhere in the batch count as known, as if already in the warehouse.
    index.add(_batch_persons(found, articles), count=True)
    mentions: list[Mention] = []
    entities: dict[str, Entity] = {}
    for spans, article in zip(found, articles):
        resolved = resolve_mentions(article.text, spans, index)
        for item in resolved:
            entity_id = to_entity_id(item.canonical, item.label)
            mentions.append(Mention(article.article_id, item.span.start, item.span.end,
                                    article.text[item.span.start:item.span.end], item.span.label,
                                    item.canonical, entity_id, item.method))
            entities.setdefault(entity_id, Entity(entity_id, item.canonical, item.label))
    return mentions, list(entities.values())


def _batch_persons(found: Sequence[Sequence[MentionSpan]], articles: Sequence[Article]) -> list[Entity]:
    """Multi-word person names of the batch, once per article that names them."""
    persons: list[Entity] = []
    for spans, article in zip(found, articles):
        seen: set[str] = set()
        for span in spans:
            if span.label == "PERSON":
                name = normalise_person_name(article.text[span.start:span.end])
                if _is_full_name(name) and not name.isupper():
                    entity_id = to_entity_id(name, "PERSON")
                    if entity_id not in seen:
                        seen.add(entity_id)
                        persons.append(Entity(entity_id, name, "PERSON"))
    return persons


def _is_full_name(name: str) -> bool:
    """Two words or more, the first of them not an initial ("Xi Jinping", not "D. Gough")."""
    words = name.split()
    return len(words) >= 2 and not _is_initial(words[0])


def _is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1 or (word.endswith(".") and word[:-1].isupper() and len(word) <= 3)


class _KnownIndex:
    """Known persons by the short forms they answer to (family name), and how often each was named."""

    def __init__(self, known: Iterable[Entity]) -> None:
        self.by_short: dict[str, dict[str, Entity]] = defaultdict(dict)
        self.named: Counter[str] = Counter()
        self.add(known)

    def add(self, entities: Iterable[Entity], count: bool = False) -> None:
        for entity in entities:
            if entity.type != "PERSON":
                continue
            words = entity.name.split()
            if len(words) < 2:
                continue
            if count:
                self.named[to_name_key(entity.name)] += 1
            for short in _short_forms(words):
                self.by_short[short][entity.entity_id] = entity

    def lookup(self, key: str, text: str, initials: str = "") -> tuple[Entity | None, str]:
        candidates = list(self.by_short.get(key, {}).values())
        if initials:
            candidates = [c for c in candidates if _initials_fit(initials, c.name)]
        if len(candidates) == 1:
            return candidates[0], "known"
        if not candidates:
            return None, ""
        folded = to_name_key(text)
        fitting = [c for c in candidates
                   if any(re.search(rf"\b{re.escape(w)}\b", folded) for w in to_name_key(c.name).split()
                          if w not in key.split())]
        if len(fitting) == 1:
            return fitting[0], "known_context"
        return None, "ambiguous"


def _short_forms(words: Sequence[str]) -> list[str]:
    """Keys a full name answers to: its family name and the longer tails ("Suu Kyi")."""
    forms = [to_name_key(" ".join(words[i:])) for i in range(len(words) - 1, 0, -1)]
    if words[0] in FAMILY_FIRST_SURNAMES and len(words) == 2:
        forms.append(to_name_key(words[0]))
    return forms


@lru_cache(maxsize=1 << 16)
def _name_forms(name: str) -> frozenset[str]:
    """`_short_forms` of a full name, memoised: every person mention is tried against every full name."""
    return frozenset(_short_forms(name.split()))


def _initials_fit(initials: str, name: str) -> bool:
    """"D." fits "Darren Gough"; "J.R." fits "John Ronald Tolkien"."""
    letters = [ch for ch in initials.upper() if ch.isalpha()]
    given = name.split()[:-1]
    return len(letters) <= len(given) and all(w[:1].upper() == ch for w, ch in zip(given, letters))


@dataclass(frozen=True)
class _Context:
    """What one article says about its names: acronyms, full person names, multi-word organisations."""

    acronyms: dict[str, str]
    full_names: list[tuple[int, str]]  # (start, canonical) of multi-word persons
    org_names: set[str]
    known: _KnownIndex | None
    sport: str | None = None  # the team sport the article reports on, if any


def resolve_mentions(text: str, spans: Sequence[MentionSpan], known: _KnownIndex | None = None) -> list[_Resolved]:
    """Canonical names within one article (see the module docstring)."""
    full_names: list[tuple[int, str]] = []
    for span in spans:
        if span.label == "PERSON":
            name = normalise_person_name(text[span.start:span.end])
            if _is_full_name(name):
                full_names.append((span.start, name))
    org_names = {normalise_name(text[s.start:s.end]) for s in spans if s.label == "ORG"}
    org_names = {n for n in org_names if len(n.split()) >= 2 and n[:1].isupper() and not to_country_name(n)
                 and not to_organisation(n)}
    acronyms = _acronym_initials(org_names)
    acronyms.update(_acronym_definitions(text))
    context = _Context(acronyms, full_names, org_names, known, to_team_sport(text))
    resolved = [_resolve_one(text, span, context) for span in spans]
    return _unify_display(resolved)


def _resolve_one(text: str, span: MentionSpan, context: _Context) -> _Resolved:
    surface = text[span.start:span.end]
    if span.label == "PERSON":
        return _resolve_person(text, span, normalise_person_name(surface), context)
    name = normalise_name(surface)
    label = span.label
    key = to_name_key(name)
    country = to_country_name(name)
    if country and label in {"GPE", "LOC", "ORG", "FAC", "NORP"}:
        if context.sport and _plays(text, span.start):
            return _Resolved(span, f"{country} national {context.sport} team", "ORG", "team")
        return _Resolved(span, country, "GPE", "gazetteer")
    longer = _longer_organisation(key, label, context.org_names)
    if longer:
        return _Resolved(span, longer, "ORG", "short_form")
    religion = to_religion(name)
    if religion and label == "NORP":
        return _Resolved(span, religion, "NORP", "religion")
    if label == "NORP" and to_demonym_country(name):
        return _Resolved(span, _demonym_singular(name), "NORP", "demonym")
    if key in context.acronyms:
        return _Resolved(span, context.acronyms[key], label, "acronym")
    organisation = to_organisation(name)
    if organisation:
        return _Resolved(span, organisation, "ORG", "gazetteer")
    return _Resolved(span, name, label, "ner")


def to_team_sport(text: str) -> str | None:
    """The team sport an article reports on, by its vocabulary; None for other articles."""
    counts: Counter[str] = Counter()
    distinct: Counter[str] = Counter()
    words = Counter(w.lower() for w in _WORD.findall(text))
    for sport, vocabulary in _TEAM_SPORTS.items():
        found = [words[w] for w in vocabulary if words[w]]
        counts[sport], distinct[sport] = sum(found), len(found)
    sport, hits = counts.most_common(1)[0]
    return sport if hits >= 4 and distinct[sport] >= 2 else None


def _plays(text: str, start: int) -> bool:
    """A country named as a side: not a place ("in Germany") nor a nationality ("Smith (Germany)")."""
    before = text[max(0, start - 30):start].rstrip()
    if before.endswith("("):
        return False
    words = _WORD.findall(before)
    return not words or words[-1].lower() not in _PLACE_WORDS


def _longer_organisation(key: str, label: str, org_names: set[str]) -> str | None:
    """The one multi-word organisation of the article that `key` is the head or the tail of.

    "Rotor" -> "Rotor Volgograd", "White Sox" -> "Chicago White Sox".
    """
    if not key or to_country(key):
        return None
    fits = set()
    for name in org_names:
        words = to_name_key(name).split()
        if len(words) < 2 or " ".join(words) == key:
            continue
        cuts = [i for i in range(1, len(words)) if words[i] not in _NAME_STOP and words[i - 1] not in _NAME_STOP]
        heads = {" ".join(words[:i]) for i in cuts}
        tails = {" ".join(words[i:]) for i in cuts}
        if (key in heads and label == "ORG") or key in tails:
            fits.add(name)
    return fits.pop() if len(fits) == 1 else None


def _resolve_person(text: str, span: MentionSpan, name: str, context: _Context) -> _Resolved:
    words = name.split()
    initials = " ".join(w for w in words[:-1] if _is_initial(w)) if len(words) >= 2 else ""
    if len(words) >= 2 and not initials:
        key = to_name_key(name)
        match = _nearest_full_name(key, context)
        if match and to_name_key(match) != key:
            return _Resolved(span, match, "PERSON", "short_form")
        return _Resolved(span, name, "PERSON", "ner")
    key = to_name_key(words[-1])
    match = _nearest_full_name(key, context, initials)
    if match:
        return _Resolved(span, match, "PERSON", "short_form")
    if not initials:
        given = {n for _, n in context.full_names if to_name_key(n.split()[0]) == key and n.split()[0] not in
                 FAMILY_FIRST_SURNAMES}
        if len(given) == 1:
            return _Resolved(span, given.pop(), "PERSON", "given_name")
    if context.known is not None:
        entity, method = context.known.lookup(key, text, initials)
        if entity is not None:
            return _Resolved(span, entity.name, "PERSON", method)
    return _Resolved(span, name, "PERSON", "ner")


def _nearest_full_name(key: str, context: _Context, initials: str = "") -> str | None:
    fits = [(pos, name) for pos, name in context.full_names if key in _name_forms(name)
            and (not initials or _initials_fit(initials, name))]
    if not fits:
        return None
    counts = Counter(name for _, name in fits)
    first_seen = {name: pos for pos, name in sorted(fits, reverse=True)}
    named = context.known.named if context.known is not None else Counter()
    # The person named most often in full is the one a bare family name means; ties: the one the
    # batch names most often, then the one named first.
    return min(counts, key=lambda name: (-counts[name], -named[to_name_key(name)], first_seen[name]))


def _acronym_initials(org_names: set[str]) -> dict[str, str]:
    """Acronyms the article's own multi-word organisations spell ("FOMC" -> "Federal Open Market Committee")."""
    found: dict[str, str] = {}
    for name in sorted(org_names):
        initials = _initials(name)
        if initials:
            found.setdefault(initials, name)
    return found


def _demonym_singular(name: str) -> str:
    words = name.split()
    last = words[-1]
    if last.endswith("s") and to_demonym_country(last[:-1]):
        words[-1] = last[:-1]
    return " ".join(words)


def _acronym_definitions(text: str) -> dict[str, str]:
    """"World Health Organization (WHO)": acronym key -> expansion, when the initials fit.

    Each "(ACRONYM)" is found first and its expansion looked for only in the few hundred
    characters before it: matching the expansion pattern over the whole text backtracks
    from every capital letter to the end of any long run of capitalised words (quadratic).
    """
    found: dict[str, str] = {}
    for paren in _ACRONYM_PAREN.finditer(text):
        start = max(0, paren.start() - _ACRONYM_WINDOW, text.rfind(")", 0, paren.start()) + 1,
                    text.rfind("(", 0, paren.start()) + 1)
        match = _ACRONYM_DEF.search(text, start, paren.end())
        if match is None:
            continue
        expansion, acronym = match.group(1), match.group(2)
        letters = acronym.replace(".", "").upper()
        words = expansion.split()
        for first in range(len(words)):
            initials = "".join(w[0] for w in words[first:] if w[:1].isupper())
            if initials == letters and words[first][:1].isupper():
                found[to_name_key(acronym)] = normalise_name(" ".join(words[first:]))
                break
    return found


def _unify_display(resolved: list[_Resolved]) -> list[_Resolved]:
    """One display name per entity in the article: prefer a form that is not all caps."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, item in enumerate(resolved):
        groups[(to_name_key(item.canonical), to_coarse_type(item.label))].append(i)
    result = list(resolved)
    for members in groups.values():
        names = [resolved[i].canonical for i in members]
        labels = Counter(resolved[i].label for i in members)
        cased = [n for n in names if not n.isupper() or len(n) <= 4]
        display = Counter(cased or [_titlecase(names[0])]).most_common(1)[0][0]
        label = labels.most_common(1)[0][0]
        for i in members:
            item = resolved[i]
            if item.canonical != display or item.label != label:
                result[i] = _Resolved(item.span, display, label, item.method)
    return result


def _titlecase(name: str) -> str:
    return " ".join(w[:1] + w[1:].lower() if w.isupper() and len(w) > 4 else w for w in name.split(" "))
