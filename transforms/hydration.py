"""Article HTML carried in a page's script data, for pages that render their text with JavaScript.

Sites built on client-side frameworks often ship the article's HTML not in the document
but as a string in an inline script (a framework's hydration or streaming payload:
`self.__next_f.push([1, "<p>..."])`, `window.__STATE__ = {"body": "<p>..."}`). Without
JavaScript the page shows no text, and a plain extractor sees a shell. `find_script_html`
returns the longest such HTML fragment (a JSON string of at least two paragraphs), so the
extractor can read the article from it. It is only consulted when the page itself yields
too little text, which keeps its cost off ordinary pages.
"""

from __future__ import annotations

import json
import re

from lxml.html import HtmlElement

_STRING = re.compile(r'"((?:[^"\\]|\\.){400,})"', re.S)
_PARAGRAPH = re.compile(r"<p[\s>]", re.I)
_MAX_SCRIPT = 2_000_000


def find_script_html(tree: HtmlElement) -> str | None:
    """The longest HTML fragment with at least two paragraphs found as a string in an inline script."""
    best: str | None = None
    for script in tree.iterfind(".//script"):
        text = script.text or ""
        kind = (script.get("type") or "").lower()
        if script.get("src") or "ld+json" in kind or len(text) > _MAX_SCRIPT or not (
                "\\u003cp" in text or "<p" in text):
            continue
        for match in _STRING.finditer(text):
            try:
                value = json.loads(f'"{match.group(1)}"')
            except ValueError:
                continue
            if isinstance(value, str) and len(_PARAGRAPH.findall(value)) >= 2 and len(value) > len(best or ""):
                best = value
    return best
