"""Bylines: the names an article credits, in any language.

`normalise_authors` turns what a page declares or shows as its byline ("Von Anna Berg und
Tom Price, dpa", "Par Léa Martin et AFP", "By JANE SMITH (js)") into one clean name per
author. The grammar is that of bylines in general, not of one site:

- a leading "by" in the languages of the press ("By", "Von", "Par", "Por", "Door", "Av", ...)
  and written-by phrases ("Written by", "Text:", "Autor:") are dropped;
- names are split on list separators and on the word for "and" in many languages
  ("und", "og", "och", "et", "y", "e", "i", "a", "ve", "ja", "и", ...), never inside a name;
- a news agency or the outlet itself is an author of record when credited ("dpa", "AFP",
  "Associated Press", "DER SPIEGEL"): kept as a name, not dropped;
- a role after a name (", Senior Correspondent", "Staff Writer") and initials in parentheses
  after it ("Elena Oberholzer (obe)") are dropped;
- what is not a name is rejected: e-mail addresses and URLs, dates, image credits
  ("(Image: Getty Images)", "Foto: imago"), social networks ("Twitter"), generic desk
  labels ("Staff", "Admin", "Redaktion" alone) and lone function words ("in", "and").
"""

from __future__ import annotations

import re
from html import unescape

from transforms.text import normalise_line

# "by" in bylines: English, German, French, Spanish/Portuguese, Dutch, Scandinavian, Polish, Czech, Russian
_BY_WORD = r"(?:by|von|par|por|door|av|af|od|от)"
_BY = re.compile(rf"^\s*(?:(?:view |see |more )?(?:all |more )?(?:posts|articles|stories) |(?:written|posted|reported|"
                 rf"story|text|words|photos?|compiled|edited|ein (?:beitrag|artikel)|un article) )?{_BY_WORD}[:\s]+"
                 r"(?=\S)", re.I)
_LABEL = re.compile(r"^\s*(?:autor(?:in|en|innen)?|author(?:s)?|auteur(?:e|s)?|text|texte|testo|tekst|"
                    r"redakce|reportage)\s*:\s*", re.I)
# "and" between two names, in many languages; only as a whole word between spaces
_AND = r"(?i:and)|und|og|och|en|et|y|e|i|a|és|ve|ja|ir|un|и|і|та|oraz"
_SPLIT_AUTHORS = re.compile(r"\s*(?:;|\||,|\s+[/–—-]\s+)\s*")
_SPLIT_AND = re.compile(rf"\s*(?:,\s*)?(?:\s(?:{_AND})\s|&)\s*")
_FOR_OUTLET = re.compile(r"\s+[Ff](?:or|OR)\s+(?:[Tt]he\s+)?(?:[A-Z0-9][\w.'&-]*\s*)+$")
_DATE_LIKE = re.compile(r"\b(?:19|20)\d{2}\b|\d{1,2}:\d{2}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d"
                        r"|\b\d+\s+(?:min(?:ute)?s?|hours?|days?)\b", re.I)
_STAFF_SUFFIX = re.compile(r"(?<=\w)\s+(?:[\w.]+\s+)?staff(?:\s+(?:writer|reporter))?$", re.I)
_ROLES = (
    r"(?:the\s+)?(?:staff(?:\s+(?:writer|reporter|report))?|(?:(?:senior|chief|deputy|political|business|sports|science|"
    r"health|foreign|managing|news|contributing|special|staff|associate|executive)\s+)*(?:correspondent|editor|reporter|"
    r"writer|columnist|contributor|producer|journalist|analyst)s?|contributors?|news\s+service|wire\s+services?)"
)
_ROLE = re.compile(rf"\s*(?:[,|/–—-]|\bfor\b)\s*{_ROLES}\b.*$", re.I)
_ROLE_ONLY = re.compile(rf"^{_ROLES}$", re.I)
_NOT_A_NAME = re.compile(
    r"^(?:staff|admin|administrator|editor|editors|editorial staff|.* staff|news desk|newsdesk|web desk|guest|anonymous|"
    r"unknown|redaktion|rédaction|redacción|redazione|redactie|redaksjonen|redaktionen|"
    r"twitter|x|facebook|instagram|linkedin|youtube|tiktok|whatsapp|telegram|threads|bluesky|mastodon|e-?mail|rss|"
    r"in|on|at|and|und|von|by|of|the|der|die|das|le|la|el|il|de|mit|with|and more)$",
    re.I,
)
_CREDIT = re.compile(r"^\(?\s*(?:image|images|photo|photos|picture|foto|fotos|bild|bilder|grafik|illustration|video|"
                     r"quelle|source|fuente|credit)s?\b|\b(?:getty images|shutterstock|imago|istock|picture alliance)\b",
                     re.I)
_INITIALS = re.compile(r"\s*\((?:[^\W\d_]{1,5}\.?(?:/[^\W\d_]{1,5}\.?)*)\)$")
_CJK_ROLE = re.compile(r"(?<=\S)\s*(?:기자|특파원|선임기자|記者|特派員|编辑|記者撮影)$")  # "신현주 기자": reporter
_URLISH = re.compile(r"^(?:https?:|www\.|/|@)|\.(?:com|org|net|co\.uk)/|\s\S+\.(?:com|org|net)$", re.I)


def _split_and(text: str) -> list[str]:
    """"A und B" -> ["A", "B"], where every part starts as a name does (not "Faculty of Law and society")."""
    parts = _SPLIT_AND.split(text)
    if len(parts) > 1 and all(p[:1] and not p[:1].islower() for p in parts):
        return parts
    return [text]


def _clean_name(raw: str) -> str:
    name = _LABEL.sub("", _BY.sub("", raw))
    name = _ROLE.sub("", name).strip(" .,:;-–—|")
    name = _INITIALS.sub("", name).strip(" .,:;-–—|")
    name = _CJK_ROLE.sub("", name)
    name = _STAFF_SUFFIX.sub("", name) if len(name.split()) > 2 else name
    return " ".join(_FOR_OUTLET.sub("", name).split())


def _is_name(name: str) -> bool:
    return not (
        not name
        or _URLISH.search(name)
        or _NOT_A_NAME.match(name)
        or _ROLE_ONLY.match(name)
        or _CREDIT.search(name)
        or len(name) > 60
        or len(name.split()) > 6
        or not re.search(r"[^\W\d_]", name)
        or _DATE_LIKE.search(name)
    )


def _cased(name: str) -> str:
    """A name in capitals is title-cased ("JANE SMITH" -> "Jane Smith"); an acronym ("AFP", "dpa") stays."""
    if name.isupper() and (" " in name or len(name) > 5):
        return name.title()
    return name


def normalise_authors(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Clean bylines: no "By", roles, initials, e-mail, URLs or credits; one name each."""
    pieces = [raw] if isinstance(raw, str) else list(raw)
    names: list[str] = []
    for piece in pieces:
        text = normalise_line(re.sub(r"[\x00-\x1f\x7f-\x9f\s]+", " ", unescape(re.sub(r"<[^>]+>", " ", piece))))
        text = _LABEL.sub("", _BY.sub("", text))
        text = re.sub(r"\S+@\S+", "", text)
        if _CREDIT.search(text) and not _SPLIT_AUTHORS.search(text):
            continue
        for part in (name for piece in _SPLIT_AUTHORS.split(text) for name in _split_and(piece)):
            name = _clean_name(part)
            if not _is_name(name):
                continue
            name = _cased(name)
            if name.lower() not in {n.lower() for n in names}:
                names.append(name)
    return tuple(names)
