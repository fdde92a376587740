"""The batch window (flows/batches.py) with real Prefect tasks on the thread-pool runner."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest


def _window_flow(n: int, size: int, fail_at: int | None = None) -> dict[str, object]:
    from prefect import flow, task
    from prefect.futures import PrefectFuture
    from prefect.task_runners import ThreadPoolTaskRunner

    from flows.batches import run_windowed

    lock = threading.Lock()
    running = {"now": 0, "most": 0}
    pulled_after: list[int] = []  # for each batch read from the iterable: how many had finished then
    finished: list[tuple[int, int]] = []

    @task
    def work(batch: int) -> int:
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        time.sleep(0.02 * (batch % 3))  # batches of unequal length finish out of order
        with lock:
            running["now"] -= 1
        if batch == fail_at:
            raise ValueError(f"batch {batch} is bad")
        return batch * 10

    def batches() -> Iterator[int]:
        for batch in range(n):
            pulled_after.append(len(finished))
            yield batch

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=8))
    def windowed() -> int:
        def submit(part: int, batch: int) -> PrefectFuture[int]:
            return work.submit(batch)

        return run_windowed(batches(), submit, size, lambda part, result: finished.append((part, result)))

    count = windowed()
    return {"count": count, "most": running["most"], "pulled_after": pulled_after, "finished": finished}


def test_every_batch_finishes_once_with_its_part_and_result(prefect_harness: None) -> None:
    got = _window_flow(n=10, size=3)
    assert got["count"] == 10
    finished = got["finished"]
    assert isinstance(finished, list)
    assert sorted(finished) == [(part, (part - 1) * 10) for part in range(1, 11)]  # parts from 1, once each


def test_at_most_size_batches_in_flight_and_the_iterable_read_lazily(prefect_harness: None) -> None:
    got = _window_flow(n=12, size=3)
    most = got["most"]
    assert isinstance(most, int) and 1 <= most <= 3
    pulled_after = got["pulled_after"]
    assert isinstance(pulled_after, list)
    # batch k (from 0) is only read once k - size + 1 batches have finished: room in the window
    assert all(done >= k - 3 + 1 for k, done in enumerate(pulled_after)), pulled_after


def test_the_batches_left_at_the_end_finish_in_part_order(prefect_harness: None) -> None:
    got = _window_flow(n=6, size=7)  # the window never fills: all finish in the drain, in order
    finished = got["finished"]
    assert isinstance(finished, list)
    assert [part for part, _ in finished] == [1, 2, 3, 4, 5, 6]


def test_a_failing_batch_fails_the_flow_saying_why(prefect_harness: None) -> None:
    with pytest.raises(ValueError, match="batch 4 is bad"):
        _window_flow(n=8, size=2, fail_at=4)


def test_no_batches_is_zero(prefect_harness: None) -> None:
    assert _window_flow(n=0, size=2)["count"] == 0


def test_batches_pass_whole_on_the_thread_pool_and_as_they_are_elsewhere(prefect_harness: None) -> None:
    from prefect import flow
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect.utilities.annotations import opaque

    from flows.batches import passed_whole

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=1))
    def wrapped() -> object:
        return passed_whole([1, 2])

    assert isinstance(wrapped(), opaque)
    assert passed_whole([1, 2]) == [1, 2]  # outside a flow: as it is
