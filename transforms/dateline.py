"""The dateline: the day and byline a page shows its reader next to the headline.

`parse_dateline` reads a parsed page (an lxml tree) and returns what the reader
sees by the headline (`Dateline`: the day as an ISO date and the byline's names).
Days written out are read by `transforms.dates` (`parse_shown_days`, `normalise_date`),
bylines cleaned by `transforms.bylines` (`normalise_authors`).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lxml.html import HtmlElement

from transforms.bylines import normalise_authors
from transforms.dates import normalise_date, parse_shown_days, parse_shown_time

_PUBLISHED_CUE = re.compile(r"\b(?:published|posted|written|created|originally|first)\b", re.I)
_UPDATED_CUE = re.compile(r"\b(?:updated|modified|edited|revised|reviewed)\b", re.I)
_BY_NAME = re.compile(r"^(?:(?i:posted|written|published|story|words|text)\b.*?\s)?(?i:by)[:\s]+([^\W\d_].{2,})$"
                      r"|^(?:Von|VON|von|Par|PAR|par|Por|POR|por|Door|Av|Af|Od)[:\s]+([^\W\d_a-z].{2,79})$")
_BY_ALONE = re.compile(r"(?:^|[\s|])(?:by|von|par|por|door|av|af|od):?$", re.I)
_BY_END = re.compile(r"\s*(?:\||•|·|—|–|\bon\b|\bat\b|\d|\bupdated\b|\bpublished\b|\bposted\b).*$", re.I)
_NO_TEXT = frozenset({"script", "style", "noscript", "template", "svg", "button", "select", "option", "figure",
                      "figcaption", "nav", "aside", "form"})


def _reading_order(root: HtmlElement) -> Iterator[tuple[str, HtmlElement]]:
    """Visible text runs in reading order, each with its element. An <h1>/<h2> is announced by
    the marker "<h>" and a <time datetime> by "<time>" before their own text."""
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        element, closing = stack.pop()
        if closing:
            parent = element.getparent()
            if element.tail and element is not root and parent is not None:
                yield element.tail, parent
            continue
        stack.append((element, True))
        if _hidden(element):
            continue
        tag = element.tag
        if tag in {"h1", "h2"}:
            yield "<h>", element
        elif tag == "time" and element.get("datetime"):
            yield "<time>", element
        if element.text:
            yield element.text, element
        stack.extend((child, False) for child in reversed(element))


def _hidden(element: Any) -> bool:
    """An element whose text (and its children's) the reader does not see as page text."""
    tag = element.tag
    return not isinstance(tag, str) or tag in _NO_TEXT or "caption" in (element.get("class") or "")


def _in_reading_order(element: HtmlElement, root: HtmlElement) -> bool:
    """Whether `_reading_order(root)` reaches `element` (no hidden element on the way down)."""
    node: HtmlElement | None = element
    while node is not None:
        if _hidden(node):
            return False
        if node is root:
            return True
        node = node.getparent()
    return True


def _headline_element(root: HtmlElement, headline: str) -> HtmlElement | None:
    """The first visible <h1> showing the headline, else the first such <h2>."""
    words = " ".join(re.findall(r"\w+", headline.lower()))
    for level in ("h1", "h2"):
        for element in root.iter(level):
            if not _in_reading_order(element, root):
                continue
            shown = " ".join(re.findall(r"\w+", element.text_content().lower()))
            if shown and (shown == words or len(shown) > 15 and (shown in words or words in shown)):
                return element
    return None


def _cue(before: str) -> str | None:
    return "updated" if _UPDATED_CUE.search(before) else "published" if _PUBLISHED_CUE.search(before) else None


@dataclass(frozen=True)
class _ShownDay:
    day: str
    cue: str | None  # "published", "updated" or None
    markup: bool = False  # read from a <time datetime> whose text shows no full date
    time: str | None = None  # the time of day written right after the day ("HH:MM"), publisher's local time


def _shown_days(text: str, previous: str) -> list[_ShownDay]:
    """Days in one short run of text, each with the cue written before it ("Updated", "Posted")."""
    text = " ".join(text.split())
    if len(text) > 100:  # a sentence of the body or a caption, not a dateline
        return []
    days: list[_ShownDay] = []
    last_end = 0
    for start, end, day in parse_shown_days(text):
        days.append(_ShownDay(day, _cue(text[last_end:start] if start > last_end or days else previous[-40:]),
                              time=parse_shown_time(text[end:])))
        last_end = end
    return days


@dataclass(frozen=True)
class Dateline:
    """What the page shows its reader by the headline: the day (ISO date) and the byline's names."""

    day: str | None = None
    authors: tuple[str, ...] = ()
    day_in_markup: bool = False  # the day comes from a <time datetime> only, not from text the reader sees
    time: str | None = None  # the time of day shown with the day ("HH:MM", local), where one is


def _byline_names(runs: list[str]) -> tuple[str, ...]:
    """Names after the first "By" in the runs of text that follow a headline: the rest of that
    run, or the next run and those joined to it by "," "and" or "&"."""
    for index, run in enumerate(runs):
        if match := _BY_NAME.search(run):
            return normalise_authors(_BY_END.sub("", match.group(1) or match.group(2)))
        if not _BY_ALONE.search(run):
            continue
        names: list[str] = []
        joined = True
        for name in runs[index + 1 : index + 8]:
            core = name.strip(" ,;&|")
            if not core or core.lower() == "and":
                joined = joined or bool(re.fullmatch(r"\s*(?:,|&|and|, and)\s*", name, re.I))
                continue
            if name.startswith(","):
                continue  # a role after a name: ", Staff Attorney"
            cut = _BY_END.sub("", name).strip(" ,;&|")
            if not joined or len(core) > 60:
                break
            names += [cut] if cut else []
            if cut != core:
                break
            joined = False
        return normalise_authors(names)
    return ()


def parse_dateline(tree: HtmlElement, headline: str, before: int = 80, after: int = 400) -> Dateline:
    """The day and the byline the page shows next to its headline.

    Readers take an article's date from its dateline, which is what the reader sees, in the
    publisher's own time zone; declared metadata often carries a CMS creation date or a
    UTC-shifted time instead. The search looks at the short runs of text that follow the
    headline (<h1>, else <h2>) up to the body (`after` characters, stopping at the first long
    paragraph), else, for the day, at the `before` characters that precede it (a kicker line).
    When a dateline shows both a published and an updated day, the published one wins;
    otherwise the first day shown. A <time datetime> counts where its text shows no full date.
    """
    body = tree.find(".//body")
    root = body if body is not None else tree
    heading = _headline_element(root, headline)
    if heading is None:
        return Dateline()
    runs = _reading_order(root)  # walked only as far as the dateline: not the whole body
    preceding: list[tuple[str, HtmlElement]] = []
    for text, element in runs:
        if text == "<h>" and element is heading:
            break
        preceding.append((text, element))
    headline_parts = set(heading.iter())
    following: list[_ShownDay] = []
    texts: list[str] = []
    previous = ""
    seen = 0
    for text, element in runs:  # on from the headline
        if element in headline_parts and text != "<h>":
            continue
        if text == "<time>":
            if not parse_shown_days(element.text_content()) and (day := normalise_date(element.get("datetime", ""))):
                following.append(_ShownDay(day[:10], _cue(previous[-40:]), markup=True))
            continue
        if text == "<h>":
            if element.tag == "h1":
                break
            continue
        stripped = " ".join(text.split())
        if len(stripped) > 250 or seen > after:
            break
        if stripped:
            texts.append(stripped)
            following.extend(_shown_days(stripped, previous))
            previous, seen = stripped, seen + len(stripped)
    candidates = following
    if not candidates:
        kicker: deque[str] = deque()
        for text, _element in reversed(preceding):
            if text == "<h>" or sum(len(t) for t in kicker) > before:
                break
            if text != "<time>" and text.strip():
                kicker.appendleft(" ".join(text.split()))
        candidates = [d for run in kicker for d in _shown_days(run, "")]
    published = [d for d in candidates if d.cue == "published"]
    chosen = (published or candidates)[0] if candidates else None
    if chosen is None:
        return Dateline(None, _byline_names(texts))
    return Dateline(chosen.day, _byline_names(texts), chosen.markup, chosen.time)


def parse_shown_date(tree: HtmlElement, headline: str) -> str | None:
    """The day the page shows next to its headline and byline (ISO date), or None."""
    return parse_dateline(tree, headline).day
