"""A document that fails at any stage is rejected with its stage and reason; the rest of its batch goes on."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from flows import analyse
from flows.guard import Budget, TooSlow, guarded, without_rejected
from transforms.models import Document, Reject
from tests.conftest import MODEL

STORY = "{word} story\n\nMaria Keller, the mayor of Springfield, said on Monday that the bridge would reopen. " \
        "“We are ready,” she said.\n"


def _documents(*words: str) -> list[Document]:
    return [Document(f"{w}.txt", "seed", STORY.format(word=w).encode(), "text/plain") for w in words]


class _Failing:
    """The real pipeline, failing on texts that carry `marker` (a planted fault)."""

    def __init__(self, nlp: Any, marker: str) -> None:
        self.nlp, self.marker = nlp, marker

    def __call__(self, text: str) -> Any:
        if self.marker in text:
            raise RuntimeError("planted parser fault")
        return self.nlp(text)

    def pipe(self, texts: list[str], **kwargs: Any) -> Any:
        if any(self.marker in t for t in texts):
            raise RuntimeError("planted parser fault")
        return self.nlp.pipe(texts, **kwargs)


def _run(documents: list[Document], budget_s: float | None = 300.0) -> tuple[list[Any], list[Reject], analyse.Analysis]:
    articles, rejects = analyse.extract_in_pool(None, documents)
    analysis = analyse.analyse_in_pool(None, articles, MODEL, [], budget_s)
    return without_rejected(articles, analysis.rejects), rejects + analysis.rejects, analysis


def test_a_failure_in_each_stage_rejects_only_its_document(monkeypatch: pytest.MonkeyPatch) -> None:
    import transforms.documents
    import transforms.entities
    import transforms.quotes

    real_nlp = analyse.load_pipeline(MODEL)
    monkeypatch.setattr(analyse, "load_pipeline", lambda model: _Failing(real_nlp, "nlpfault"))
    extract_document, extract_entities = transforms.documents.extract_document, transforms.entities.extract_entities
    extract_quotes = transforms.quotes.extract_quotes

    def failing_extract(document: Document) -> Any:
        if b"extractfault" in document.body:
            raise ValueError("planted extractor fault")
        return extract_document(document)

    def failing_entities(docs: Any, articles: Any, known: Any = ()) -> Any:
        if any("entityfault" in a.text for a in articles):
            raise KeyError("planted entity fault")
        return extract_entities(docs, articles, known)

    def failing_quotes(doc: Any, article: Any, mentions: Any) -> Any:
        if "quotefault" in article.text:
            raise IndexError("planted quote fault")
        return extract_quotes(doc, article, mentions)

    monkeypatch.setattr(transforms.documents, "extract_document", failing_extract)
    monkeypatch.setattr(transforms.entities, "extract_entities", failing_entities)
    monkeypatch.setattr(transforms.quotes, "extract_quotes", failing_quotes)

    loaded, rejects, analysis = _run(_documents("good", "extractfault", "nlpfault", "entityfault", "quotefault", "fine"))
    assert sorted(a.uri for a in loaded) == ["fine.txt", "good.txt"]
    assert {(r.uri, r.stage, r.reason) for r in rejects} == {
        ("extractfault.txt", "extract", "extractor_error"), ("nlpfault.txt", "nlp", "nlp_error"),
        ("entityfault.txt", "entities", "entities_error"), ("quotefault.txt", "quotes", "quotes_error")}
    assert all("planted" in r.message and "\n" not in r.message for r in rejects)
    kept = {a.article_id for a in loaded}
    assert analysis.mentions and {m.article_id for m in analysis.mentions} <= kept  # nothing of a rejected article
    assert analysis.quotes and {q.article_id for q in analysis.quotes} <= kept


def test_a_chunk_that_fails_as_a_whole_rejects_its_articles_and_the_others_load(monkeypatch: pytest.MonkeyPatch) -> None:
    analyse_articles = analyse.analyse_articles

    def failing_chunk(articles: Any, *args: Any, **kwargs: Any) -> Any:
        if any("chunkfault" in a.text for a in articles):
            raise MemoryError("planted chunk fault")
        return analyse_articles(articles, *args, **kwargs)

    monkeypatch.setattr(analyse, "analyse_articles", failing_chunk)
    monkeypatch.setattr(analyse, "ANALYSE_CHUNK", 2)
    loaded, rejects, _ = _run(_documents("a", "chunkfault", "c", "d"))
    assert sorted(a.uri for a in loaded) == ["c.txt", "d.txt"]
    assert {(r.uri, r.reason) for r in rejects} == {("a.txt", "batch_error"), ("chunkfault.txt", "batch_error")}


def test_a_spent_time_budget_rejects_as_too_slow() -> None:
    loaded, rejects, analysis = _run(_documents("slow"), budget_s=1e-9)
    assert not loaded and not analysis.quotes
    assert [(r.uri, r.reason) for r in rejects] == [("slow.txt", "too_slow")]
    assert "document_budget_s" in rejects[0].message


def test_guarded_passes_results_through_and_budget_checks_between_steps(tmp_path: Path) -> None:
    rejects: list[Reject] = []
    document = _documents("x")[0]
    assert guarded(lambda: 42, document, "extract", rejects) == 42 and not rejects
    budget = Budget(seconds=None)
    budget.check("anything")  # no limit, never raises
    with pytest.raises(TooSlow):
        Budget(seconds=0.0, started=0.0).check("nlp")


def _busy(seconds: float) -> str:
    """A step that computes for `seconds` (no sleep: pure Python, as a pathological parse would)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        pass
    return "finished"


def test_a_step_still_running_when_the_budget_is_spent_is_interrupted_in_the_main_thread() -> None:
    rejects: list[Reject] = []
    document = _documents("stuck")[0]
    assert guarded(lambda: _busy(30.0), document, "nlp", rejects, Budget(seconds=0.2)) is None  # not waited out
    assert [(r.uri, r.reason) for r in rejects] == [("stuck.txt", "too_slow")]
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)  # the timer is cleared
    assert signal.getsignal(signal.SIGALRM) in (signal.SIG_DFL, None)  # and the handler restored
    assert guarded(lambda: _busy(0.01), document, "nlp", rejects, Budget(seconds=5.0)) == "finished"


def test_in_a_thread_the_budget_is_checked_when_the_step_ends() -> None:
    rejects: list[Reject] = []
    document = _documents("slow-thread")[0]
    results: list[object] = []
    worker = threading.Thread(target=lambda: results.append(
        guarded(lambda: _busy(0.5), document, "nlp", rejects, Budget(seconds=0.1))))
    worker.start()
    worker.join()
    assert results == [None] and [r.reason for r in rejects] == ["too_slow"]  # finished, then rejected


def test_an_extraction_past_its_budget_is_a_too_slow_reject_and_the_others_load(monkeypatch: pytest.MonkeyPatch) -> None:
    from transforms import documents as extraction

    real = extraction.extract_document

    def stalling(document: Document) -> Any:
        if document.uri == "stuck.txt":
            _busy(30.0)  # a pathological page: the budget stops it
        return real(document)

    monkeypatch.setattr(extraction, "extract_document", stalling)
    articles, rejects = analyse.extract_in_pool(None, _documents("stuck", "fine"), budget_s=0.5)
    assert [(r.uri, r.stage, r.reason) for r in rejects] == [("stuck.txt", "extract", "too_slow")]
    assert [a.uri for a in articles] == ["fine.txt"]
