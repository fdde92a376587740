"""The outlet's own name: which words name the site, and whether a byline or title part is just that.

A page credits its outlet in many places (a " | Site" title suffix, an Organization author,
a masthead <h1>). Two views of the name are kept: `site_keys` (the site name and host squashed
to letters, for credits: "DER SPIEGEL" ~ "spiegel") and `site_words` (its words, for title parts,
which `strip_site_suffix` drops).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_WORD = re.compile(r"\w+")
_HOST_WORDS = frozenset({"com", "org", "net", "co", "uk", "www"})


def words(text: str) -> list[str]:
    """The lower-case words of `text`."""
    return _WORD.findall(text.lower())


def site_keys(names: Iterable[str], url: str | None) -> set[str]:
    """The site's names and its host (without the top-level domain), squashed to letters and digits."""
    keys = {re.sub(r"\W", "", v.lower()) for v in names if v}
    if url and (host := urlsplit(url).hostname):
        keys.add(re.sub(r"\W", "", host.removeprefix("www.").rsplit(".", 1)[0]))
    return keys


def outlet_like(name: str, keys: set[str]) -> bool:
    """A credited name that is the outlet's own (the same letters as, within or around a site key)."""
    key = re.sub(r"\W", "", name.lower())
    return bool(key) and any(key == site or key in site or site in key for site in keys if len(site) > 2)


def site_words(site_name: str | None, url: str | None) -> set[str]:
    """The words of the site name and of the host (without www and the common top-level domains)."""
    found = set(words(site_name)) if site_name else set()
    if url:
        host = urlsplit(url).hostname or ""
        found.update(w for w in words(host.removeprefix("www.")) if w not in _HOST_WORDS)
    return found


def site_like(text: str, known: set[str]) -> bool:
    """A text made only of the site's words (or those words run together, or containing them all)."""
    found = set(words(text))
    squashed = "".join(words(text))
    return bool(found) and (found <= known or squashed in known or bool(known) and known <= found)


_TITLE_SEPARATOR = re.compile(r"(\s+[|–—·•:»~-]\s+|\s*[|·•]\s*)")  # "»" unspaced closes a «quote»


def strip_site_suffix(title: str, known: set[str]) -> str:
    """Drop " | Site" and "Site - " parts from a title, keeping the rest as written."""
    parts = _TITLE_SEPARATOR.split(title)  # text, separator, text, ...
    while len(parts) > 2 and site_like(parts[-1], known):
        parts = parts[:-2]
    while len(parts) > 2 and site_like(parts[0], known):
        parts = parts[2:]
    return "".join(parts).strip()
