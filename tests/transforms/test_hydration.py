"""Article HTML carried in script data: found on a JavaScript-rendered page, ignored elsewhere."""

from __future__ import annotations

import json

from lxml import html as lxml_html

from transforms.html import extract_html
from transforms.hydration import find_script_html
from transforms.models import Document

PARAGRAPHS = [
    "Der Stadtrat hat am Dienstag beschlossen, die Fähre zwischen den beiden Ufern wieder in Betrieb zu nehmen.",
    "Die Verbindung war im Frühjahr eingestellt worden, nachdem Inspektoren fehlende Rettungswesten bemängelt hatten.",
    "Der Betreiber muss nun monatlich Bericht erstatten; die erste Prüfung ist für den kommenden Monat angesetzt.",
]
FRAGMENT = "".join(f'<p class="editor-p">{p}</p>' for p in PARAGRAPHS)


def _shell(script: str) -> str:
    return (f'<!DOCTYPE html><html lang="de"><head><meta property="og:title" content="Die Fähre fährt wieder">'
            f'<script src="/app.js"></script></head><body><div id="root"></div><script>{script}</script></body></html>')


def test_streaming_payload_with_escaped_html() -> None:
    payload = json.dumps([1, FRAGMENT])  # the escaped string a streaming payload pushes
    page = _shell(f"self.__next_f.push({payload.replace('<', chr(92) + 'u003c')})")
    fragment = find_script_html(lxml_html.fromstring(page))
    assert fragment is not None and all(p in fragment for p in PARAGRAPHS)
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.article is not None, extracted.reject
    assert all(p in extracted.article.text for p in PARAGRAPHS)
    assert extracted.article.title == "Die Fähre fährt wieder"


def test_a_shell_without_article_html_is_still_a_js_shell() -> None:
    page = _shell('window.__STATE__ = {"user": null, "flags": ["a", "b"]}')
    assert find_script_html(lxml_html.fromstring(page)) is None
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.reject is not None and extracted.reject.reason == "js_shell"


def test_script_strings_with_one_paragraph_are_not_an_article() -> None:
    page = _shell(json.dumps({"teaser": "<p>" + PARAGRAPHS[0] * 5 + "</p>"}))
    assert find_script_html(lxml_html.fromstring(page)) is None


def test_a_script_rendered_page_keeps_the_date_trafilatura_finds() -> None:
    # trafilatura's first pass finds no text on the shell and discards it; its metadata guesses still count
    payload = json.dumps([1, FRAGMENT]).replace("<", chr(92) + "u003c")
    page = _shell(f"self.__next_f.push({payload})").replace(
        '<div id="root"></div>', '<div id="root"><time datetime="2024-03-12T08:00:00+01:00"></time></div>')
    extracted = extract_html(Document(uri="u", source="url", body=page.encode(), media_type="text/html"))
    assert extracted.article is not None, extracted.reject
    assert extracted.article.published_at is not None and extracted.article.published_at.startswith("2024-03-12")
    assert ("published_at", "trafilatura") in extracted.article.provenance
