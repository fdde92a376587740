"""What the golden files hold, computed one way for the tests and for `regenerate.py` alike.

- `seed_quotes.json`: the seed text's quotes (plain spaCy pipeline, as the quote stage gets it);
- `seed_entities.json`: its resolved mentions and entities (the prepared pipeline);
- `pages/<path>.json`: every HTML page under tests/fixtures/ and seeds/, extracted as the pipeline
  extracts a local file (text, title, authors, dates, site, language, provenance, or the reject).
"""

from __future__ import annotations

import gzip
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from spacy.language import Language

from transforms.documents import extract_documents
from transforms.entities import extract_entities
from transforms.models import Article, Document
from transforms.quotes import extract_quotes

GOLDEN = Path(__file__).resolve().parent
REPO = GOLDEN.parent.parent
PAGES = GOLDEN / "pages"
REGENERATE = "python -m tests.golden.regenerate"


def read_golden(name: str) -> Any:
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --- the seed text ---------------------------------------------------------------------------------


def quote_records(nlp: Language, article: Article) -> list[dict[str, Any]]:
    """The article's quotes as plain records, the speaker's canonical name resolved."""
    doc = nlp(article.text)
    mentions, entities = extract_entities([doc], [article])
    names = {e.entity_id: e.name for e in entities}
    return [
        {
            "kind": q.kind,
            "text": q.text,
            "cue": q.cue,
            "speaker": q.speaker,
            "speaker_canonical": names.get(q.speaker_entity_id) if q.speaker_entity_id else None,
            "method": q.method,
        }
        for q in extract_quotes(doc, article, mentions)
    ]


def entity_records(prepared: Language, article: Article) -> dict[str, Any]:
    """Every resolved mention of the article and its distinct entities."""
    mentions, entities = extract_entities([prepared(article.text)], [article])
    return {
        "article_id": article.article_id,
        "mentions": [{k: v for k, v in asdict(m).items() if k != "article_id"} for m in mentions],
        "entities": sorted((asdict(e) for e in entities), key=lambda e: (e["type"], e["name"])),
    }


def entities_json(data: dict[str, Any]) -> str:
    """JSON with one mention or entity per line, so that a diff reads well."""
    def rows(items: list[dict[str, Any]]) -> str:
        return ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in items)

    return (f'{{"article_id": {json.dumps(data["article_id"])},\n "mentions": [\n{rows(data["mentions"])}\n ],\n'
            f' "entities": [\n{rows(data["entities"])}\n ]}}\n')


# --- HTML pages ------------------------------------------------------------------------------------


def html_pages() -> list[Path]:
    """Every HTML page the tests and the seeds hold, relative to the repository."""
    found = [*(REPO / "tests" / "fixtures").rglob("*.html"), *(REPO / "tests" / "fixtures").rglob("*.html.gz"),
             *(REPO / "seeds").glob("*.html"), *(REPO / "seeds").glob("*.html.gz")]
    return sorted(p.relative_to(REPO) for p in found)


def golden_path(page: Path) -> Path:
    return PAGES / f"{page.as_posix()}.json"


def page_record(page: Path) -> dict[str, Any]:
    """One page through the pipeline's extract stage, read as a local (seed) file is read: no URL."""
    body = (REPO / page).read_bytes()
    if page.name.endswith(".gz"):
        body = gzip.decompress(body)
    articles, rejects = extract_documents([Document(uri=page.as_posix(), source="seed", body=body,
                                                    media_type="text/html")])
    if not articles:
        return {"page": page.as_posix(), "reject": {"stage": rejects[0].stage, "reason": rejects[0].reason}}
    a = articles[0]
    return {
        "page": page.as_posix(),
        "reject": None,
        "title": a.title,
        "standfirst": a.standfirst,
        "authors": list(a.authors),
        "published_at": a.published_at,
        "modified_at": a.modified_at,
        "site_name": a.site_name,
        "language": a.language,
        "section": a.section,
        "canonical_url": a.canonical_url,
        "provenance": [f"{field}: {source}" for field, source in a.provenance],
        "blocks": [b.kind for b in a.blocks],
        "content_hash": a.content_hash,
        "text": a.text,
    }
