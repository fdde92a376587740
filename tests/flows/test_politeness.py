"""Per-host slots: stalled requests give their slot away (up to a cap), retries go first, when their time comes."""

from __future__ import annotations

import asyncio

from flows.politeness import FIRST, RETRY, HostSlots


async def _granted(host: HostSlots, order: list[str], name: str, priority: int = FIRST, not_before: float = 0.0) -> None:
    lease = await host.acquire(priority, not_before)
    order.append(name)
    lease.close()


def test_a_stalled_request_gives_its_slot_away_up_to_the_cap() -> None:
    async def go() -> list[str]:
        host = HostSlots(concurrency=1, delay=0.0, release_after=0.05, max_stalled=1)
        order: list[str] = []
        first = await host.acquire()  # never answered: stalls after 0.05 s and lets the next one go
        second = await asyncio.wait_for(host.acquire(), 1.0)
        order.append("second")
        third = asyncio.ensure_future(_granted(host, order, "third"))
        await asyncio.sleep(0.2)  # the second stalls too, but one stalled request is the cap: it keeps its slot
        order.append("cap held")
        second.close()
        await asyncio.wait_for(third, 1.0)
        first.close()
        return order

    assert asyncio.run(go()) == ["second", "cap held", "third"]


def test_retries_go_first_once_their_wait_is_over() -> None:
    async def go() -> list[str]:
        host = HostSlots(concurrency=1, delay=0.0, release_after=10.0, max_stalled=0)
        order: list[str] = []
        holder = await host.acquire()
        loop = asyncio.get_running_loop()
        waiting = [asyncio.ensure_future(_granted(host, order, "new-1")),
                   asyncio.ensure_future(_granted(host, order, "retry-later", RETRY, loop.time() + 0.3)),
                   asyncio.ensure_future(_granted(host, order, "retry", RETRY)),
                   asyncio.ensure_future(_granted(host, order, "new-2"))]
        await asyncio.sleep(0.05)
        holder.answered()
        await asyncio.gather(*waiting)
        return order

    assert asyncio.run(go()) == ["retry", "new-1", "new-2", "retry-later"]


def test_a_hold_off_delays_every_start_and_the_retry_goes_when_it_ends() -> None:
    async def go() -> tuple[list[str], float]:
        host = HostSlots(concurrency=2, delay=0.0, release_after=10.0, max_stalled=0)
        order: list[str] = []
        loop = asyncio.get_running_loop()
        until = loop.time() + 0.3
        host.hold_off(until)
        new = asyncio.ensure_future(_granted(host, order, "new"))
        retry = asyncio.ensure_future(_granted(host, order, "retry", RETRY, until))
        await asyncio.gather(new, retry)
        return order, loop.time() - until

    order, late = asyncio.run(go())
    assert order == ["retry", "new"] and 0 <= late < 0.1
