"""Acronyms and the names they stand for.

An article defines some ("World Health Organization (WHO)"); its own multi-word
organisations spell others ("Federal Open Market Committee" -> "FOMC"). Both map an
acronym's matching key to the expansion, for resolution in `transforms.resolution`.
"""

from __future__ import annotations

import re

from transforms.names import CONNECTORS, normalise_name, to_name_key

_ACRONYM_PAREN = re.compile(r"\(\s*[A-Z][A-Za-z0-9&.]{1,9}\s*\)")
_ACRONYM_WINDOW = 240  # characters before "(WHO)" that may hold its expansion
_ACRONYM_DEF = re.compile(
    r"((?:[A-Z][\w&'’.-]*)(?:\s+(?:of|the|for|and|on|in|de|du|des|la|le|[A-Z][\w&'’.-]*))*)\s*\(\s*"
    r"([A-Z][A-Za-z0-9&.]{1,9})\s*\)"
)


def to_initials(name: str) -> str:
    """"fomc" for "Federal Open Market Committee"; "" unless three or more capitalised words."""
    words = [w for w in normalise_name(name).split() if w.lower() not in CONNECTORS]
    if len(words) < 3 or not all(w[:1].isupper() and w.isalpha() for w in words):
        return ""
    return "".join(w[0] for w in words).lower()


def to_acronym_expansions(org_names: set[str]) -> dict[str, str]:
    """Acronyms the article's own multi-word organisations spell ("FOMC" -> "Federal Open Market Committee")."""
    found: dict[str, str] = {}
    for name in sorted(org_names):
        initials = to_initials(name)
        if initials:
            found.setdefault(initials, name)
    return found


def parse_acronym_definitions(text: str) -> dict[str, str]:
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
