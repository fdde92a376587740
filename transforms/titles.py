"""The headline: an <h1> confirmed by a declared title, else the declarations with the site's name removed.

`pick_title` weighs the <h1>s a page shows against the titles it declares (JSON-LD headline,
og:title, <title>, ...) and trafilatura's guess; `uncut_title` gives a headline cut short
with "…" way to a full one the page also carries.
"""

from __future__ import annotations

import re

from transforms.guesses import TrafilaturaMetadata
from transforms.metadata import PageMetadata, Sourced
from transforms.outlets import site_like, site_words, strip_site_suffix, words
from transforms.text import normalise_line


def _contained(inner: str, outer: str) -> bool:
    a, b = " ".join(words(inner)), " ".join(words(outer))
    return bool(a) and a != b and f" {a} " in f" {b} " and len(a.split()) >= 3


_KICKER = re.compile(r"^(.{2,80}?)\s*(?::|\s/|\s[–—-]|\|)\s+(.+)$")


def _kicker_split(title: str) -> tuple[str, str] | None:
    """("Kicker", "Headline") from "Kicker: Headline" (or " - ", " / ", "|"), the kicker of six words at most."""
    match = _KICKER.match(title)
    if match is None or len(words(match.group(1))) > 6:
        return None
    return match.group(1), match.group(2)


def _kicker_of(declared: str, h1: str) -> bool:
    """The declared title is the <h1> headline with its kicker in front ("Kicker: Headline"):
    the page shows the two apart (or the kicker without its colon), the declaration as one line."""
    a, b = words(declared), words(h1)
    if not b or a == b and declared != h1:
        return bool(b)
    parts = _kicker_split(declared)
    return parts is not None and words(parts[1]) == b


def _common_headline(a: str, b: str) -> str | None:
    """The headline two titles share behind kickers with no word in common ("K1 - Headline", "K2: Headline")."""
    x, y = _kicker_split(a), _kicker_split(b)
    if x is None or y is None or set(words(x[0])) & set(words(y[0])) or words(x[1]) != words(y[1]):
        return None
    return x[1]


def _without_kicker(title: str, others: list[str]) -> str | None:
    """Another declared title that is `title` without its kicker: the publisher's headline proper."""
    parts = _kicker_split(title)
    if parts is None:
        return None
    return next((other for other in others if words(other) == words(parts[1])), None)


def _title_matches(h1: str, ref: str) -> bool:
    a, b = " ".join(words(h1)), " ".join(words(ref))
    if not a or not b:
        return False
    if a == b or b.startswith(a + " ") or b.endswith(" " + a):
        return True
    return (a in b or b in a) and min(len(a), len(b)) / max(len(a), len(b)) >= 0.5


def pick_title(meta: PageMetadata, guess: TrafilaturaMetadata | None, url: str | None) -> Sourced | None:
    """The headline: an <h1> confirmed by a declared title, else the declarations, site name removed."""
    refs = [t.value for t in meta.titles]
    if guess is not None and guess.title:
        refs.append(guess.title)
    known = site_words(meta.site_name.value if meta.site_name else None, url)
    declared = [t for t in meta.titles if t.source != "html"]
    for page_title in (t.value for t in meta.titles if t.source == "html"):
        # what the <title> adds around the declared headline is the site's name
        for t in declared:
            if _contained(t.value, page_title):
                known |= set(words(page_title)) - set(words(t.value))
    h1s = [h for h in meta.h1s[:6] if not site_like(h, known)]
    for h1 in h1s:
        for ref in declared:
            if common := _common_headline(h1, strip_site_suffix(ref.value, known)):
                return Sourced(common, "html")  # the page and the declaration put different kickers on it
        for ref in declared:  # an <h1> with a kicker or standfirst around the declared headline
            stripped = strip_site_suffix(ref.value, known)
            if _contained(stripped, h1) or _kicker_of(stripped, h1):
                return Sourced(stripped, ref.source)
        if any(_title_matches(h1, ref) for ref in refs):
            return Sourced(h1, "html")
    if len(h1s) == 1 and len(words(h1s[0])) >= 3:
        return Sourced(h1s[0], "html")
    cleaned = [Sourced(strip_site_suffix(t.value, known), t.source) for t in meta.titles]
    for candidate in cleaned:
        if candidate.value and not site_like(candidate.value, known):
            if bare := _without_kicker(candidate.value, [t.value for t in cleaned if t.source != "html"]):
                return Sourced(bare, candidate.source)
            return candidate
    if guess is not None and guess.title:
        return Sourced(strip_site_suffix(normalise_line(guess.title), known), "trafilatura")
    return meta.title


def uncut_title(title: Sourced | None, meta: PageMetadata) -> Sourced | None:
    """A headline cut short with "…" or "..." gives way to a declared or shown title that it begins."""
    if title is None or not title.value.endswith(("…", "...")):
        return title
    stem = title.value.rstrip(".… ")
    for candidate in (*meta.h1s, *(t.value for t in meta.titles)):
        if len(candidate) > len(stem) + 1 and candidate.startswith(stem) and not candidate.endswith(("…", "...")):
            return Sourced(candidate, title.source)
    return title
