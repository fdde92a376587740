"""Name normalisation: the canonical spelling of an entity name.

`normalise_name` drops what is not part of a name (a leading "the",
possessive "'s", titles and roles such as "US President", wrapping quotes
and punctuation) and fixes spacing ("St.Gallen" -> "St. Gallen"). It is
idempotent and never raises. `to_name_key` further folds case, diacritics
and corporate suffixes, for matching only. A person's full name ("Aung San Suu Kyi")
answers to its short forms ("Suu Kyi", "Kyi"; "Xi" for the family-name-first "Xi Jinping").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from transforms.gazetteer import FAMILY_FIRST_SURNAMES, fold_diacritics

# Honorifics and roles that precede a name ("President Joe Biden").
TITLES: frozenset[str] = frozenset(
    """mr mrs ms miss mx dr prof professor sir dame lord lady madam madame monsieur herr frau sen senator rep
    representative gov governor gen general lt col colonel maj major capt captain adm admiral sgt sergeant
    president vice prime minister chancellor premier king queen prince princess emperor empress pope cardinal
    archbishop bishop rev reverend father sister brother rabbi imam sheikh sheik ayatollah mayor judge justice
    chief secretary ambassador commissioner chairman chairwoman chair ceo cfo coo director spokesman spokeswoman
    spokesperson minister deputy foreign defence defense finance interior state former acting late
    coach manager striker midfielder defender goalkeeper captain skipper veteran champion expert insider
    analyst economist professor author writer actor actress singer officer agent detective inspector
    superintendent marshal commander leader head founder owner executive editor correspondent""".split()
)
CORPORATE_SUFFIXES: frozenset[str] = frozenset(
    "inc incorporated ltd limited llc plc corp corporation co company ag gmbh sa nv bv spa oyj ab asa kk lp llp "
    "pty pte sarl srl".split()
)

_SPACES = re.compile(r"\s+")
_ABBREV_JOIN = re.compile(r"\b([A-Z][a-z]{1,3}\.)(?=[A-Z][a-z])")
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_EDGE_JUNK = "\"'“”‘’«»„‚()[]{}<>,;:!?*•·–—-_/\\|"
_KEEP_THE = frozenset({"the hague", "the gambia", "the bahamas"})
# Lowercase words that join the words of one name ("Bank of England", "Banque de France").
CONNECTORS: frozenset[str] = frozenset({"of", "the", "for", "and", "on", "in", "de", "du", "des", "la", "le", "&"})
# The name functions are pure and called on the same few thousand names over and over (every
# mention against every full name of its article): memoised, bounded so a long run stays flat.
_CACHE = 1 << 16


def _strip_edges(name: str) -> str:
    name = name.strip(_EDGE_JUNK + " ")
    return name


def _drop_titles(words: list[str]) -> list[str]:
    """Leading titles/roles; keeps at least one word."""
    while len(words) > 1:
        head = words[0].rstrip(".").casefold()
        if head in TITLES:
            words = words[1:]
            continue
        break
    return words


@lru_cache(maxsize=_CACHE)
def normalise_name(name: str) -> str:
    """The canonical form of a name as written: idempotent, never raises.

    >>> normalise_name("the University of St.Gallen")
    'University of St. Gallen'
    >>> normalise_name("China’s")
    'China'
    """
    previous = None
    current = name
    for _ in range(8):  # a fixed point is reached in a few rounds
        if current == previous:
            break
        previous = current
        current = _normalise_once(current)
    return current


def _normalise_once(name: str) -> str:
    text = unicodedata.normalize("NFC", name)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in {"Cc", "Cf"} or ch in "\n\t")
    text = _SPACES.sub(" ", text).strip()
    text = _ABBREV_JOIN.sub(r"\1 ", text)
    text = _strip_edges(text)
    text = _POSSESSIVE.sub("", text)
    text = _strip_edges(text)
    words = text.split(" ") if text else []
    if len(words) > 1 and words[0].casefold() == "the" and " ".join(words[:2]).casefold() not in _KEEP_THE:
        words = words[1:]
    return " ".join(words)


@lru_cache(maxsize=_CACHE)
def normalise_person_name(name: str) -> str:
    """`normalise_name`, then leading titles and roles dropped: idempotent, never raises."""
    current = normalise_name(name)
    for _ in range(8):
        words = _drop_titles(current.split(" ")) if current else []
        dropped = normalise_name(" ".join(words))
        if dropped == current:
            break
        current = dropped
    return current


@lru_cache(maxsize=_CACHE)
def to_name_key(name: str) -> str:
    """Matching key: normalised, case and diacritics folded, corporate suffix dropped."""
    text = fold_diacritics(normalise_name(name)).casefold().replace("’", "'")
    words = [w for w in re.split(r"[\W_]+", text.replace(".", "")) if w]
    while len(words) > 1 and words[-1] in CORPORATE_SUFFIXES:
        words = words[:-1]
    while len(words) > 1 and words[0] == "the" and " ".join(words[:2]) not in _KEEP_THE:
        words = words[1:]
    return " ".join(words)


# --- person names: full names and the short forms they answer to ---------------------------------


def is_full_name(name: str) -> bool:
    """Two words or more, the first of them not an initial ("Xi Jinping", not "D. Gough")."""
    words = name.split()
    return len(words) >= 2 and not is_initial(words[0])


def is_initial(word: str) -> bool:
    return len(word.rstrip(".")) == 1 or (word.endswith(".") and word[:-1].isupper() and len(word) <= 3)


def to_short_forms(words: Sequence[str]) -> list[str]:
    """Keys a full name answers to: its family name and the longer tails ("Suu Kyi")."""
    forms = [to_name_key(" ".join(words[i:])) for i in range(len(words) - 1, 0, -1)]
    if words[0] in FAMILY_FIRST_SURNAMES and len(words) == 2:
        forms.append(to_name_key(words[0]))
    return forms


@lru_cache(maxsize=_CACHE)
def to_name_forms(name: str) -> frozenset[str]:
    """`to_short_forms` of a full name, memoised: every person mention is tried against every full name."""
    return frozenset(to_short_forms(name.split()))


def initials_fit(initials: str, name: str) -> bool:
    """"D." fits "Darren Gough"; "J.R." fits "John Ronald Tolkien"."""
    letters = [ch for ch in initials.upper() if ch.isalpha()]
    given = name.split()[:-1]
    return len(letters) <= len(given) and all(w[:1].upper() == ch for w, ch in zip(given, letters))
