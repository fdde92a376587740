"""From raw documents to articles: pick the reader by media type, never let one bad document stop a batch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial

from transforms.language import identify_language
from transforms.models import Article, Document, Extracted, Reject, to_article_id
from transforms.text import parse_text

log = logging.getLogger(__name__)

# How the caller runs one document's extraction: (document, the extraction) -> its result.
Step = Callable[[Document, Callable[[], Extracted]], Extracted]


def extract_document(document: Document) -> Extracted:
    """Article text and metadata from one document, or a Reject saying why not."""
    if document.media_type == "text/html":
        from transforms.html import extract_html

        return extract_html(document)
    return parse_text(document)


def extract_documents(documents: Sequence[Document], step: Step | None = None) -> tuple[list[Article], list[Reject]]:
    """A batch: articles in input order, and a Reject for every document that gave none.

    An unexpected exception on one document becomes a Reject with reason
    `extractor_error` (logged with its traceback) and the batch goes on. `step`, when
    given, runs each document's extraction (the flow passes one that keeps a time budget);
    a reject it returns stands for the document.
    """
    articles: list[Article] = []
    rejects: list[Reject] = []
    for document in documents:
        try:
            result = step(document, partial(extract_document, document)) if step else extract_document(document)
        except Exception as err:  # noqa: BLE001 - one bad page must not stop the batch
            log.exception("extractor failed on %s", document.uri)
            key = document.uri if document.source != "seed" else f"seed:{document.uri}"
            result = Extracted(reject=Reject(document.uri, "extract", "extractor_error",
                                             f"{type(err).__name__}: {err}", to_article_id(key), document.fetch_id))
        if result.article is not None:
            articles.append(result.article)
        elif result.reject is not None:
            rejects.append(result.reject)
        else:
            rejects.append(Reject(document.uri, "extract", "no_result", "the extractor returned nothing"))
    # Languages after the whole batch is extracted: the identifier's tables stay in the CPU caches from one
    # article to the next (right after an extraction, a first look-up costs ten times as much).
    return [identify_language(article) for article in articles], rejects


def select_changed(documents: Sequence[Document], loaded: dict[str, str], force: bool = False) -> tuple[list[Document], int]:
    """The documents whose bytes differ from the version already loaded (all of them with `force`)."""
    if force:
        return list(documents), 0
    fresh = [d for d in documents if loaded.get(d.uri) != d.raw_hash]
    return fresh, len(documents) - len(fresh)


def select_not_rejected(documents: Sequence[Document], rejected: dict[str, list[str]]) -> tuple[list[Document], int]:
    """The documents whose bytes were not already rejected at extraction (uri -> rejected raw hashes) by the
    same extractor: extracting them again would only give the same reject. Returns them and how many were left out."""
    fresh = [d for d in documents if d.raw_hash not in rejected.get(d.uri, ())]
    return fresh, len(documents) - len(fresh)
