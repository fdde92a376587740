"""Mentions resolved to canonical names, within an article and against known entities.

Within the article: countries and their short forms ("US", "U.S.", "America") to one
country; acronyms to their expansion (the article's own "World Health Organization (WHO)",
else the gazetteer's); a person's short form ("Schmid", and "Xi" for the family-name-first
"Xi Jinping") to the full name found in the article. Across articles: the `known` entities
resolve a short form only when exactly one known person fits, or when the article's context
(another part of the name) decides. Demonyms (NORP, "Russian") keep their own entity;
`to_country` links them. In a match report of a team sport (`to_team_sport`), a country
named as a side ("Germany beat Spain") is its national team; "in Germany" stays the country.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from transforms.acronyms import parse_acronym_definitions, to_acronym_expansions
from transforms.gazetteer import (
    FAMILY_FIRST_SURNAMES,
    to_country,
    to_country_name,
    to_demonym_country,
    to_organisation,
    to_religion,
)
from transforms.ids import to_coarse_type
from transforms.mentions import MentionSpan
from transforms.models import Entity
from transforms.names import (
    CONNECTORS,
    initials_fit,
    is_full_name,
    is_initial,
    normalise_name,
    normalise_person_name,
    to_name_forms,
    to_name_key,
    to_short_forms,
)

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
class Resolved:
    """A mention with its canonical name, label and the rule that resolved it."""

    span: MentionSpan
    canonical: str
    label: str
    method: str


class KnownIndex:
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
            for short in to_short_forms(words):
                self.by_short[short][entity.entity_id] = entity

    def lookup(self, key: str, text: str, initials: str = "") -> tuple[Entity | None, str]:
        candidates = list(self.by_short.get(key, {}).values())
        if initials:
            candidates = [c for c in candidates if initials_fit(initials, c.name)]
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


@dataclass(frozen=True)
class _Context:
    """What one article says about its names: acronyms, full person names, multi-word organisations."""

    acronyms: dict[str, str]
    full_names: list[tuple[int, str]]  # (start, canonical) of multi-word persons
    org_names: set[str]
    known: KnownIndex | None
    sport: str | None = None  # the team sport the article reports on, if any


def resolve_mentions(text: str, spans: Sequence[MentionSpan], known: KnownIndex | None = None) -> list[Resolved]:
    """Canonical names within one article (see the module docstring)."""
    full_names: list[tuple[int, str]] = []
    for span in spans:
        if span.label == "PERSON":
            name = normalise_person_name(text[span.start:span.end])
            if is_full_name(name):
                full_names.append((span.start, name))
    org_names = {normalise_name(text[s.start:s.end]) for s in spans if s.label == "ORG"}
    org_names = {n for n in org_names if len(n.split()) >= 2 and n[:1].isupper() and not to_country_name(n)
                 and not to_organisation(n)}
    acronyms = to_acronym_expansions(org_names)
    acronyms.update(parse_acronym_definitions(text))
    context = _Context(acronyms, full_names, org_names, known, to_team_sport(text))
    resolved = [_resolve_one(text, span, context) for span in spans]
    return _unify_display(resolved)


def _resolve_one(text: str, span: MentionSpan, context: _Context) -> Resolved:
    surface = text[span.start:span.end]
    if span.label == "PERSON":
        return _resolve_person(text, span, normalise_person_name(surface), context)
    name = normalise_name(surface)
    label = span.label
    key = to_name_key(name)
    country = to_country_name(name)
    if country and label in {"GPE", "LOC", "ORG", "FAC", "NORP"}:
        if context.sport and _plays(text, span.start):
            return Resolved(span, f"{country} national {context.sport} team", "ORG", "team")
        return Resolved(span, country, "GPE", "gazetteer")
    longer = _longer_organisation(key, label, context.org_names)
    if longer:
        return Resolved(span, longer, "ORG", "short_form")
    religion = to_religion(name)
    if religion and label == "NORP":
        return Resolved(span, religion, "NORP", "religion")
    if label == "NORP" and to_demonym_country(name):
        return Resolved(span, _demonym_singular(name), "NORP", "demonym")
    if key in context.acronyms:
        return Resolved(span, context.acronyms[key], label, "acronym")
    organisation = to_organisation(name)
    if organisation:
        return Resolved(span, organisation, "ORG", "gazetteer")
    return Resolved(span, name, label, "ner")


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
        cuts = [i for i in range(1, len(words)) if words[i] not in CONNECTORS and words[i - 1] not in CONNECTORS]
        heads = {" ".join(words[:i]) for i in cuts}
        tails = {" ".join(words[i:]) for i in cuts}
        if (key in heads and label == "ORG") or key in tails:
            fits.add(name)
    return fits.pop() if len(fits) == 1 else None


def _resolve_person(text: str, span: MentionSpan, name: str, context: _Context) -> Resolved:
    words = name.split()
    initials = " ".join(w for w in words[:-1] if is_initial(w)) if len(words) >= 2 else ""
    if len(words) >= 2 and not initials:
        key = to_name_key(name)
        match = _nearest_full_name(key, context)
        if match and to_name_key(match) != key:
            return Resolved(span, match, "PERSON", "short_form")
        return Resolved(span, name, "PERSON", "ner")
    key = to_name_key(words[-1])
    match = _nearest_full_name(key, context, initials)
    if match:
        return Resolved(span, match, "PERSON", "short_form")
    if not initials:
        given = {n for _, n in context.full_names if to_name_key(n.split()[0]) == key and n.split()[0] not in
                 FAMILY_FIRST_SURNAMES}
        if len(given) == 1:
            return Resolved(span, given.pop(), "PERSON", "given_name")
    if context.known is not None:
        entity, method = context.known.lookup(key, text, initials)
        if entity is not None:
            return Resolved(span, entity.name, "PERSON", method)
    return Resolved(span, name, "PERSON", "ner")


def _nearest_full_name(key: str, context: _Context, initials: str = "") -> str | None:
    fits = [(pos, name) for pos, name in context.full_names if key in to_name_forms(name)
            and (not initials or initials_fit(initials, name))]
    if not fits:
        return None
    counts = Counter(name for _, name in fits)
    first_seen = {name: pos for pos, name in sorted(fits, reverse=True)}
    named = context.known.named if context.known is not None else Counter()
    # The person named most often in full is the one a bare family name means; ties: the one the
    # batch names most often, then the one named first.
    return min(counts, key=lambda name: (-counts[name], -named[to_name_key(name)], first_seen[name]))


def _demonym_singular(name: str) -> str:
    words = name.split()
    last = words[-1]
    if last.endswith("s") and to_demonym_country(last[:-1]):
        words[-1] = last[:-1]
    return " ".join(words)


def _unify_display(resolved: list[Resolved]) -> list[Resolved]:
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
                result[i] = Resolved(item.span, display, label, item.method)
    return result


def _titlecase(name: str) -> str:
    return " ".join(w[:1] + w[1:].lower() if w.isupper() and len(w) > 4 else w for w in name.split(" "))
