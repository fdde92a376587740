"""Per-document isolation: a step that fails on one document rejects that document, not its batch.

Every per-document step (read, decode, extract, language, NLP, quotes, ...) runs
through `guarded`: any exception becomes a `rejects` row for that document (the
stage, a reason code, a one-line message) and the batch goes on. A `Budget`
bounds the time one document may take: checked between steps (and between the
pieces of a long text), it turns a document that would stall the run into a
`too_slow` reject. In a process's main thread (the NLP pool's workers, where the
CPU stages run with `workers` > 1) a step still running when the budget is spent
is interrupted by a timer; in a task's thread (`workers = 1`) signals cannot reach
it, so the check there is cooperative and a running step finishes first, which is
why every step is linear in its input.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TypeVar, cast

from transforms.errors import Reason, Stage, TooSlow
from transforms.models import Article, Document, Reject, to_article_id

log = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_BUDGET_S = 300.0


@dataclass
class Budget:
    """The time one document may take; `seconds=None` means no limit."""

    seconds: float | None = DEFAULT_BUDGET_S
    started: float = field(default_factory=time.monotonic)

    def check(self, where: str = "") -> None:
        if self.seconds is None:
            return
        spent = time.monotonic() - self.started
        if spent > self.seconds:
            at = f" during {where}" if where else ""
            raise TooSlow(f"took {spent:.0f} s{at}, over the {self.seconds:g}-second budget per document "
                          f"(raise document_budget_s to allow it)")

    def remaining(self) -> float | None:
        """Seconds left (None: no limit)."""
        return None if self.seconds is None else self.seconds - (time.monotonic() - self.started)


@contextmanager
def interrupted_when_spent(budget: Budget | None, where: str) -> Iterator[None]:
    """Interrupt the step inside with TooSlow once `budget` is spent, where a timer signal can reach it
    (a process's main thread); elsewhere, or without a limit, the step runs to its end."""
    left = budget.remaining() if budget is not None else None
    if (budget is None or left is None or not hasattr(signal, "setitimer")
            or threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGALRM) not in (signal.SIG_DFL, signal.SIG_IGN, None)):
        yield  # no limit, not the main thread, or someone else's timer is in use: cooperative checks only
        return

    def spent(signum: int, frame: object) -> None:
        budget.check(where)  # raises TooSlow: the budget is spent
        raise TooSlow(f"over the {budget.seconds:g}-second budget per document during {where}")

    previous = signal.signal(signal.SIGALRM, spent)
    signal.setitimer(signal.ITIMER_REAL, max(left, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def subject_ids(subject: Article | Document) -> tuple[str, str | None, str | None]:
    """(uri, article_id, fetch_id) of a document or article, for its reject."""
    if isinstance(subject, Article):
        return subject.uri, subject.article_id, subject.fetch_id
    key = f"seed:{subject.uri}" if subject.source == "seed" else subject.uri
    return subject.uri, to_article_id(key), subject.fetch_id


def to_reject(subject: Article | Document, stage: Stage, err: BaseException, reason: Reason | None = None) -> Reject:
    """The reject for `subject` failing at `stage` with `err`: a one-line message, `too_slow` for a spent budget."""
    uri, article_id, fetch_id = subject_ids(subject)
    if isinstance(err, TooSlow):
        return Reject(uri, stage, "too_slow", f"{uri}: {err}", article_id, fetch_id)
    first = (str(err).strip().splitlines() or [""])[0][:300]
    step_error = cast(Reason, f"{stage}_error")  # nlp_error, entities_error, quotes_error (listed in Reason)
    return Reject(uri, stage, reason or step_error, f"{type(err).__name__}: {first}", article_id, fetch_id)


def guarded(step: Callable[[], T], subject: Article | Document, stage: Stage, rejects: list[Reject],
            budget: Budget | None = None, reason: Reason | None = None) -> T | None:
    """`step()`, or None with a reject for `subject` appended to `rejects` when it raises or the budget is spent."""
    try:
        if budget is not None:
            budget.check(f"{stage} (before)")
        with interrupted_when_spent(budget, stage):
            result = step()
        if budget is not None:
            budget.check(stage)
        return result
    except Exception as err:  # noqa: BLE001 - one document must never stop its batch
        if not isinstance(err, TooSlow):
            log.exception("%s failed on %s", stage, subject_ids(subject)[0])
        rejects.append(to_reject(subject, stage, err, reason))
        return None


def reject_all(subjects: Sequence[Article | Document], stage: Stage, err: BaseException) -> list[Reject]:
    """A batch-level failure: every document of the batch rejected, with the reason (`batch_error`)."""
    return [to_reject(s, stage, err, "batch_error") for s in subjects]


def without_rejected(articles: Sequence[Article], rejects: Sequence[Reject]) -> list[Article]:
    """The articles no stage rejected: a rejected article is not loaded (and is tried again next run)."""
    rejected = {r.article_id for r in rejects if r.article_id}
    return [a for a in articles if a.article_id not in rejected]
