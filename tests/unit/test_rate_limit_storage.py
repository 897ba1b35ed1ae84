"""The in-process rate-limit storage: the library's counting, its sweep of expired keys paced."""

from __future__ import annotations

import asyncio

from limits import parse

from valorize_entrypoints.rate_limits import PacedMemoryStorage, RateLimits


def test_many_increments_start_one_sweep_not_one_each() -> None:
    """limits' own storage started a sweep of every key after each increment (O(keys) a request)."""

    async def run() -> int:
        storage = PacedMemoryStorage(every=60)
        sweep = storage._MemoryStorage__expire_events  # type: ignore[attr-defined]
        sweeps = 0

        async def counted() -> None:
            nonlocal sweeps
            sweeps += 1
            await sweep()

        storage._MemoryStorage__expire_events = counted  # type: ignore[attr-defined]
        limits = RateLimits(storage, parse("1000000/minute"), None)
        for n in range(2_000):
            await limits.spend(limits.per_token, "token", str(n))
            await asyncio.sleep(0)  # let any sweep run, as a serving loop would
        return sweeps

    assert asyncio.run(run()) == 1


def test_counts_still_expire_with_their_window() -> None:
    async def run() -> list[bool]:
        limits = RateLimits(PacedMemoryStorage(every=60), parse("2/second"), None)
        spent = [await limits.spend(limits.per_token, "t") is None for _ in range(3)]
        await asyncio.sleep(1.1)  # the window has passed; no sweep has run since
        return [*spent, await limits.spend(limits.per_token, "t") is None]

    assert asyncio.run(run()) == [True, True, False, True]
