"""A few batches at a time: the sliding window the flow runs its batches in.

The flow submits each batch's chain of tasks when the window has room, and hears of each
batch as it ends, so memory stays flat however large the corpus and the workers never
wait on one slow batch while others could run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar, overload

from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture, as_completed
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import opaque

T = TypeVar("T")
R = TypeVar("R")


def run_windowed(batches: Iterable[T], submit: Callable[[int, T], PrefectFuture[R]], size: int,
                 finished: Callable[[int, R], None], first: int = 1) -> int:
    """Submit `submit(part, batch)` for each batch (parts numbered from `first`) with at most `size` in flight,
    and call `finished(part, result)` once per part: as each ends while batches remain, then the rest in part
    order. Returns the number of batches. A task's exception propagates (the run fails, saying why).

    The next batch starts when any batch ends, not the oldest: batches vary tenfold in work, and
    waiting for the oldest left the pool without work while it finished. `batches` is read lazily,
    so a batch's reading task is only submitted when there is room for it.
    """
    pending: dict[PrefectFuture[R], int] = {}
    part = first - 1
    for part, batch in enumerate(batches, start=first):
        pending[submit(part, batch)] = part
        while len(pending) >= max(1, size):
            completed = as_completed(list(pending))
            done = next(completed)
            completed.close()
            finished(pending.pop(done), done.result())
    for future, at in sorted(pending.items(), key=lambda pair: pair[1]):
        finished(at, future.result())
    return part - first + 1


@overload
def passed_whole(value: PrefectFuture[T]) -> T: ...
@overload
def passed_whole(value: T) -> T: ...
def passed_whole(value: object) -> object:
    """`value` for a task parameter, marked so that Prefect does not walk it.

    Batches travel between tasks as `opaque` values: Prefect waits for a future given
    this way but does not walk every article, mention and quote inside looking for
    nested futures (seconds per batch). prefect-dask hands the annotation to the task
    as a plain tuple, so on Dask they go as they are.
    """
    context = FlowRunContext.get()
    if context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner):
        return opaque(value)  # Prefect unwraps it (and resolves a future) before the task runs
    return value
