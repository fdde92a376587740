"""Per-host politeness: a few slots per host, a delay between request starts, and fairness.

A URL takes one of its host's slots to start a request (at most `concurrency` at once, starts
spaced by `delay`). The slot goes back when the response's headers arrive, or when they have
not arrived after `release_after` seconds: a server that hangs or trickles then no longer holds
the host's other URLs behind it. At most `max_stalled` such stalled requests per host are let
go that way (beyond that a stalled request keeps its slot), so a host that hangs on everything
is not flooded. Retries wait in front of first attempts, so a `Retry-After` is honoured to
within the host's delay, not after the rest of the host's queue.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools

RETRY = 0  # priorities: lower goes first
FIRST = 1


class HostSlots:
    def __init__(self, concurrency: int, delay: float, release_after: float, max_stalled: int) -> None:
        self.concurrency = max(1, concurrency)
        self.delay = delay
        self.release_after = release_after
        self.max_stalled = max_stalled
        self.active = 0
        self.stalled = 0
        self.next_at = 0.0  # loop time of the next allowed start
        self._queue: list[tuple[int, int, asyncio.Future[None]]] = []  # a heap: priority, order, waiter
        self._later: list[tuple[float, int, int, asyncio.Future[None]]] = []  # a heap: not before, priority, order, waiter
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, priority: int = FIRST, not_before: float = 0.0) -> Lease:
        """Wait for a slot (retries first, then in arrival order), the host's delay, and `not_before` (loop time).

        A retry queues at once with its `not_before`, so that no first attempt takes the
        moment its wait ends (a Retry-After is then honoured to the host's delay at worst).
        """
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if not_before > asyncio.get_running_loop().time():
            heapq.heappush(self._later, (not_before, priority, next(self._order), waiter))
        else:
            heapq.heappush(self._queue, (priority, next(self._order), waiter))
        self._dispatch()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # granted, then cancelled: give it back
                self._give_back()
            waiter.cancel()
            self._dispatch()
            raise
        return Lease(self)

    def hold_off(self, until: float) -> None:
        """No new request to this host before `until` (loop time: a 429's or 503's Retry-After)."""
        self.next_at = max(self.next_at, until)
        self._dispatch()

    def _give_back(self) -> None:
        self.active -= 1
        self._dispatch()

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while True:
            now = loop.time()
            while self._later and self._later[0][0] <= now:  # retries whose wait is over join the queue
                _, priority, order, waiter = heapq.heappop(self._later)
                heapq.heappush(self._queue, (priority, order, waiter))
            while self._queue and self._queue[0][2].done():  # waiters cancelled while queued
                heapq.heappop(self._queue)
            if self.active >= self.concurrency or not (self._queue or self._later):
                return
            start = self.next_at if self._queue else max(self.next_at, self._later[0][0])
            if start > now:
                self._timer = loop.call_later(start - now, self._dispatch)
                return
            _, _, waiter = heapq.heappop(self._queue)
            self.active += 1
            self.next_at = now + self.delay
            waiter.set_result(None)


class Lease:
    """One request's hold on a host slot; `answered()` when headers arrive, `close()` when done."""

    def __init__(self, host: HostSlots) -> None:
        self.host = host
        self.holding = True
        self.stalled = False
        self._timer: asyncio.TimerHandle | None = asyncio.get_running_loop().call_later(host.release_after, self._stall)

    def answered(self) -> None:
        self._cancel_timer()
        if self.holding:
            self.holding = False
            self.host._give_back()

    def close(self) -> None:
        self.answered()
        if self.stalled:
            self.stalled = False
            self.host.stalled -= 1

    def _stall(self) -> None:
        self._timer = None
        if self.holding and self.host.stalled < self.host.max_stalled:
            self.stalled = True
            self.host.stalled += 1
            self.answered()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
