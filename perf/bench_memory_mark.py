"""What a memory unit of work costs to decide whether it wrote (its request's Idempotency-Key).

    python perf/bench_memory_mark.py [--rows 100000] [--units 30]

One tenant of ``--rows`` transactions in an in-memory backend. Each row of the output is a kind
of unit of work, ``--units`` of them one after the other, CPU milliseconds per unit (the median
of three passes): a commit without events and without a key (the floor: the snapshot taken at
the unit's start and after its commit), the same commit while its request holds an
Idempotency-Key (the unit must know whether it wrote, to mark the key), and a unit under a key
that only read. The write is an account renamed (the accounts map comes before the
transactions in the tenant's data: comparing the data stopped there) or a payee's memory
(after them). Run it on two trees to compare (``PYTHONPATH=<tree>/src``): it uses only public
ports.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import timedelta

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.memory.idempotency import InMemoryIdempotencyStore
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.ports.idempotency import applying_key
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import NOW, PortsContract
from valorize_core.use_cases.actions.signup import Signup, SignupRequest


async def _main(rows: int, units: int) -> None:
    backend = InMemoryBackend()
    ports, helper = backend.ports, PortsContract()
    keys = InMemoryIdempotencyStore(backend.store)
    t = (await Signup(ports)(SignupRequest("Bench", f"{uuid.uuid4().hex}@example.com", "B"))).tenant.id
    account = helper.account(t)
    async with ports.uow(t) as uow:
        await uow.accounts.add(account)
        await uow.commit()
    for start in range(0, rows, 10_000):
        batch = [helper.transaction(t, account, -100 - i) for i in range(start, min(rows, start + 10_000))]
        async with ports.uow(t) as uow:
            await uow.transactions.add_many(batch)
            await uow.commit()

    async def rename(uow: UnitOfWork) -> None:
        await uow.accounts.update(replace(account, name=f"Checking {uuid.uuid4().hex[:6]}"))

    async def remember(uow: UnitOfWork) -> None:
        await uow.payees.put(PayeeMemoryEntry(uuid.uuid4().hex, (uuid.uuid4(),), NOW))

    async def only_read(uow: UnitOfWork) -> None:
        await uow.accounts.get(account.id)

    async def unit(step: Callable[[UnitOfWork], Awaitable[None]], keyed: bool) -> None:
        if not keyed:
            async with ports.uow(t) as uow:
                await step(uow)
                await uow.commit()
            return
        key = uuid.uuid4().hex
        await keys.claim(t, key, "h", NOW, timedelta(hours=1), timedelta(minutes=1))
        with applying_key(t, key, NOW):
            async with ports.uow(t) as uow:
                await step(uow)
                await uow.commit()

    kinds = {
        "an account renamed, no key (floor)": (rename, False),
        "an account renamed, under a key": (rename, True),
        "a payee remembered, no key (floor)": (remember, False),
        "a payee remembered, under a key": (remember, True),
        "a unit that only read, under a key": (only_read, True),
    }
    passes: dict[str, list[float]] = {name: [] for name in kinds}
    for _ in range(3):
        for name, (step, keyed) in kinds.items():
            started = time.process_time()
            for _ in range(units):
                await unit(step, keyed)
            passes[name].append((time.process_time() - started) * 1000 / units)
    print(f"{rows} transactions, {units} units x 3 passes: CPU ms per unit (median; the passes)")
    for name, values in passes.items():
        print(f"| {name} | {statistics.median(values):.2f} | {', '.join(f'{v:.2f}' for v in values)} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--units", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(_main(args.rows, args.units))


if __name__ == "__main__":
    main()
