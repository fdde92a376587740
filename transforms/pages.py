"""Pages that are not articles: index pages, paywall stubs, consent walls, JavaScript shells.

`classify_page` looks at a page's parsed tree, the body text the extractor found and the
page's declarations, and returns the reject reason for a page that is not an article.
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from transforms.errors import Reason
from transforms.jsonld import ARTICLE_TYPES, INDEX_TYPES
from transforms.metadata import PageMetadata
from transforms.text import normalise_line

MIN_ARTICLE_CHARS = 200  # shorter bodies are not articles (teasers, stubs, error pages)

_JS_NOTICE = re.compile(r"enable javascript|javascript (?:is )?(?:required|disabled|turned off)|requires javascript|"
                        r"turn on javascript|(?:browser|device) (?:does not|doesn't) support javascript", re.I)
_PAYWALL = re.compile(
    r"subscribe (?:now |today )?to (?:continue|read|unlock|keep reading|get full access)|already (?:a subscriber|"
    r"subscribed)|(?:continue|keep) reading (?:with|by subscribing)|subscribers? only|(?:available|reserved|"
    r"exclusive) (?:to|for) (?:paid |premium )?(?:subscribers|members)|to continue reading|unlock (?:this|the full) "
    r"(?:article|story)|become a (?:subscriber|member) to read|sign in to (?:read|continue)|premium (?:article|content)",
    re.I,
)
_CONSENT = re.compile(
    r"cookies?|consent|privacy (?:policy|settings|choices|preferences|options)|accept all|reject all|gdpr|"
    r"personal data|our partners|legitimate interest|manage (?:options|settings|preferences)|tracking technologies",
    re.I,
)



def _visible_text(tree: HtmlElement) -> str:
    body = tree.find(".//body")
    root = body if body is not None else tree
    parts: list[str] = []
    for node in root.iter():
        if node.tag in {"script", "style", "noscript", "template"} or not isinstance(node.tag, str):
            if node.tail:
                parts.append(node.tail)
            continue
        parent = node.getparent()
        if parent is not None and parent.tag in {"script", "style", "noscript", "template"}:
            continue
        if node.text:
            parts.append(node.text)
        if node is not root and node.tail:
            parts.append(node.tail)
    return normalise_line(" ".join(parts))


def classify_page(tree: HtmlElement, body_text: str, meta: PageMetadata,
                  blocks: list[str] | None = None) -> tuple[Reason, str] | None:
    """A reject reason for pages that are not articles, or None for an article.

    Reasons: `js_shell` (no text without JavaScript), `consent_wall` (a cookie or
    consent notice instead of the page), `paywall` (a subscription stub),
    `not_article_index` (a list of links to articles).
    """
    short = len(body_text) < MIN_ARTICLE_CHARS
    blocks = blocks if blocks is not None else body_text.split("\n\n")
    if short:
        visible = _visible_text(tree)
        noscript = " ".join(" ".join(e.itertext()) for e in tree.iterfind(".//noscript"))
        scripts = sum(1 for s in tree.iterfind(".//script") if "json" not in (s.get("type") or "").lower())
        if _PAYWALL.search(visible) or meta.accessible_for_free is False:
            return "paywall", "a subscription stub: the article text is behind a paywall"
        if len(visible) < MIN_ARTICLE_CHARS and (scripts or _JS_NOTICE.search(noscript + " " + visible)):
            return "js_shell", f"the page has {len(visible)} characters of text without JavaScript ({scripts} scripts)"
        if len(_CONSENT.findall(body_text + " " + visible[:3000])) >= 3:
            return "consent_wall", "a cookie or consent notice stands in for the page"
        return None
    article_typed = bool(set(meta.page_types) & ARTICLE_TYPES)
    if len(body_text) < 1500:
        if len(_CONSENT.findall(body_text)) >= 3 and len(_CONSENT.findall(body_text)) * 150 > len(body_text):
            return "consent_wall", "a cookie or consent notice stands in for the page"
        if (meta.accessible_for_free is False or not article_typed) and _PAYWALL.search(blocks[-1] if blocks else ""):
            return "paywall", "a subscription stub: only a teaser precedes the paywall"
    lines = [line for line in body_text.split("\n") if line.strip()]
    if not article_typed and len(lines) >= 8:
        anchors = {normalise_line(a.text_content()) for a in tree.iterfind(".//a")}
        linked = sum(1 for line in lines if line in anchors)
        threshold = 0.5 if set(meta.page_types) & INDEX_TYPES else 0.7
        if linked / len(lines) > threshold:
            return "not_article_index", f"{linked} of {len(lines)} lines are links to other pages: an index page"
    return None
