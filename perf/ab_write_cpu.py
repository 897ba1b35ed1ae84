"""A write's API CPU with the code of another revision swapped in and out, in one process.

    python perf/ab_write_cpu.py [--before REV] [--cut NAME ...] [--writes 1000] [--calls 300]

``profile_requests.py``'s driver (``POST /api/transactions`` through the ASGI app, the categorizer
running; embedded PostgreSQL) and, beside it, the floor's write route (``bench_write_costs.py``).
The functions a change touched are loaded as they stand at ``--before`` (``git show``) next to the
current ones; blocks of 50 writes then run in turn with the **before** functions swapped in, with
the **after** ones, and on the floor's route, in a rotating order, so all three share whatever the
machine does meanwhile. Prints the API CPU per write of each (``time.process_time``: no client is
in the process), after ÷ before and each ÷ the floor, and the median of each round's own
after ÷ before (a round is one block of each side, within a second); with ``--calls``, the Python function calls
per write of each side (cProfile over that many writes; deterministic but for the relay's marks,
one per 50 ms window).

``--cut`` measures only the named cuts (the others stay as they are now on both sides); the cuts
are the keys of :data:`CUTS`. The in-memory read cache keeps its versions in structures that
differ between the revisions, so its cut swaps the whole cache instance (one of each class);
the ``writer`` dependency is part of the app Litestar builds, so its cut is a second app on the
same database (each with its own pool of 2) whose ``writer`` goes through ``actor`` as before.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import logging
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.di import NamedDependency
from profile_requests import TENANTS, _started, requested, signed_up

from valorize_adapters.memory import cache as memory_cache
from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_entrypoints.api import app as api_app
from valorize_entrypoints.api import create_app
from valorize_entrypoints.api.auth import Actor
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
BLOCK = 50


def load_module(revision: str, module: str) -> types.ModuleType:
    """``module`` (dotted) as its source stands at ``revision``, loaded under a name of its own
    (its imports are the current package's)."""
    path = "src/" + module.replace(".", "/") + ".py"
    source = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout  # fmt: skip
    loaded = types.ModuleType(f"before_{module.replace('.', '_')}")
    loaded.__file__ = f"{revision}:{path}"
    sys.modules[loaded.__name__] = loaded  # dataclasses look their module up
    exec(compile(source, loaded.__file__, "exec"), loaded.__dict__)  # the project's own source
    return loaded


class Swap:
    """Attributes to set to the before side's values, and back to the after side's."""

    def __init__(self) -> None:
        self._pairs: list[tuple[Any, str, Any, Any]] = []  # owner, name, before, after

    def add(self, owner: Any, name: str, before: Any) -> None:
        self._pairs.append(
            (owner, name, before, owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name))
        )

    def side(self, before: bool) -> None:
        for owner, name, old, new in self._pairs:
            setattr(owner, name, old if before else new)


def _events(swap: Swap, revision: str, app: Any) -> None:
    """The events' record and JSON text (made once; the outbox row from the same text)."""
    from valorize_adapters.postgres.unit_of_work import PostgresUnitOfWork
    from valorize_core.model.events import DomainEvent

    old = load_module(revision, "valorize_core.model.events")
    swap.add(DomainEvent, "to_record", old.DomainEvent.__dict__["to_record"])
    swap.add(DomainEvent, "to_json", old.DomainEvent.__dict__["to_json"])
    unit = load_module(revision, "valorize_adapters.postgres.unit_of_work").PostgresUnitOfWork
    swap.add(PostgresUnitOfWork, "_write", unit.__dict__["_write"])


def _task_ids(swap: Swap, revision: str, app: Any) -> None:
    """The follow-up tasks' name-based ids."""
    from valorize_core.runtime import relay

    swap.add(relay, "task_id_for", load_module(revision, "valorize_core.runtime.tasks").task_id_for)


def _embedder(swap: Swap, revision: str, app: Any) -> None:
    """The hashing embedder's norm."""
    from valorize_adapters.embedders.hashing import HashingEmbedder

    swap.add(
        HashingEmbedder,
        "embed",
        load_module(revision, "valorize_adapters.embedders.hashing").HashingEmbedder.__dict__["embed"],
    )


def _memory_bus(swap: Swap, revision: str, app: Any) -> None:
    """The in-process event bus's publish."""
    from valorize_adapters.memory.events import InMemoryEventBus

    old = load_module(revision, "valorize_adapters.memory.events")
    swap.add(InMemoryEventBus, "publish", old.InMemoryEventBus.__dict__["publish"])


def _memory_cache(swap: Swap, revision: str, app: Any) -> None:
    """The in-process read cache's versions and holds (a whole cache of each class)."""
    read_cache = app.state.runtime.reads
    assert read_cache is not None, "the read cache is off"
    assert isinstance(read_cache.cache, memory_cache.InMemoryCache), "the read cache is not the in-process one"
    swap.add(read_cache, "cache", load_module(revision, "valorize_adapters.memory.cache").InMemoryCache())


def _categorizations(swap: Swap, revision: str, app: Any) -> None:
    """The stock categorizations (none, manual) made once."""
    from valorize_core.model.transactions import Categorization

    old = load_module(revision, "valorize_core.model.transactions").Categorization
    swap.add(Categorization, "none", classmethod(old.__dict__["none"].__func__))
    swap.add(Categorization, "manual", classmethod(old.__dict__["manual"].__func__))


async def _writer_through_actor(actor: NamedDependency[Actor]) -> Actor:
    """``writer`` as it was (d0f2eab): a pass-through of the ``actor`` dependency."""
    return actor


def _app(url: str, *, writer_through_actor: bool = False) -> Litestar:
    """The API on ``url`` with ``profile_requests.py``'s settings; with ``writer_through_actor``,
    its ``writer`` dependency resolved as before (Litestar builds the graph when the app is made,
    so that cut is a second app on the same database, not a swap)."""
    container = Container()
    container.settings.override(
        Settings(backend="postgres", database_url=url, db_pool_min=2, db_pool_max=2, log_json=True, cache=True)
    )
    if not writer_through_actor:
        return create_app(container)
    current = api_app.provide_writer
    api_app.provide_writer = _writer_through_actor  # type: ignore[assignment]
    try:
        return create_app(container)
    finally:
        api_app.provide_writer = current


#: Cuts measured with a second app (the rest swap functions in one app).
APP_CUTS = frozenset({"writer", "second_app"})

CUTS: dict[str, Callable[[Swap, str, Any], None]] = {
    "events": _events,
    "task_ids": _task_ids,
    "embedder": _embedder,
    "memory_bus": _memory_bus,
    "memory_cache": _memory_cache,
    "categorizations": _categorizations,
    "writer": lambda swap, revision, app: None,  # a second app: see _app
    "second_app": lambda swap, revision, app: None,  # the control of "writer": a second app, the same code
}


async def run(url: str, revision: str, cuts: list[str], writes: int, calls: int) -> None:
    import psycopg
    from bench_write_costs import _floor_app  # the floor of the same report (perf/README.md)

    app = _app(url)
    inbox, lifespan = await _started(app)
    tenants = await signed_up(app)
    swap = Swap()
    for cut in cuts:
        if cut not in APP_CUTS:
            CUTS[cut](swap, revision, app)
    apps = {"before": app, "after": app}
    started = [(inbox, lifespan)]
    if APP_CUTS & set(cuts):
        apps["before"] = _app(url, writer_through_actor="writer" in cuts)
        started.append(await _started(apps["before"]))

    floor, state = _floor_app(url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        rows = await (await admin.execute("SELECT id, tenant_id FROM accounts")).fetchall()
    state()["tenants"] = {row[0]: row[1] for row in rows}
    floor_inbox, floor_lifespan = await _started(floor)

    spent = {"before": 0.0, "after": 0.0, "floor": 0.0}
    sides = ("before", "after", "floor")

    async def block(side: str, first: int) -> float:
        swap.side(side == "before")
        started = time.process_time()
        await requested(floor if side == "floor" else apps[side], "write", tenants, first, BLOCK)
        return time.process_time() - started

    for n in range(6):  # warm-up: both sides' caches, the floor's prepared statements
        await block(sides[n % 3], n * BLOCK)
    blocks = max(1, writes // BLOCK)
    rounds: list[dict[str, float]] = []
    for n in range(blocks):
        took = {}
        for k in range(3):
            side = sides[(n + k) % 3]
            took[side] = await block(side, (n * 3 + k) * BLOCK)
            spent[side] += took[side]
        rounds.append(took)
    per = {side: spent[side] / (blocks * BLOCK) * 1000 for side in sides}
    print(f"cuts: {', '.join(cuts)} (before = {revision}); {blocks * BLOCK} writes a side, {TENANTS} tenants")
    print(f"API CPU per write: before {per['before']:.3f} ms, after {per['after']:.3f} ms, floor {per['floor']:.3f} ms")
    ratios = per["before"] / per["floor"], per["after"] / per["floor"]
    change = per["after"] / per["before"]
    print(f"after ÷ before {change:.3f}; ÷ floor: before {ratios[0]:.2f}×, after {ratios[1]:.2f}×")
    # Each round's three blocks ran within a second of each other: the median of the rounds'
    # own ratios is what a burst of load on the machine moves least.
    paired = sorted(r["after"] / r["before"] for r in rounds)
    quartiles = statistics.quantiles(paired, n=4) if len(paired) > 1 else [paired[0]] * 3
    print(f"after ÷ before, median of {len(paired)} rounds: {quartiles[1]:.3f}"
          f" (quartiles {quartiles[0]:.3f}–{quartiles[2]:.3f})")  # fmt: skip

    if calls:
        counted = {}
        for side in ("before", "after"):
            swap.side(side == "before")
            profile = cProfile.Profile()
            profile.enable()
            await requested(apps[side], "write", tenants, 0, calls)
            profile.disable()
            counted[side] = pstats.Stats(profile).total_calls / calls  # type: ignore[attr-defined]
        print(f"Python calls per write: before {counted['before']:.0f}, after {counted['after']:.0f}"
              f" ({counted['after'] - counted['before']:+.0f})")  # fmt: skip
    swap.side(False)
    await asyncio.sleep(0.3)  # the relay's last mark
    for box, task in (*started, (floor_inbox, floor_lifespan)):
        await box.put({"type": "lifespan.shutdown"})
        await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", help="the revision whose functions are the before side (default: where this"
                        " branch left main)")  # fmt: skip
    parser.add_argument("--cut", action="append", choices=sorted(CUTS), help="only these cuts (default: all)")
    parser.add_argument("--writes", type=int, default=1000, help="writes per side")
    parser.add_argument("--calls", type=int, default=0, help="writes per side counted by cProfile (0: none)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    before = args.before or subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, check=True,
                                           capture_output=True, text=True).stdout.strip()[:12]  # fmt: skip
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            asyncio.run(migrate(url))
            asyncio.run(run(url, before, args.cut or list(CUTS), args.writes, args.calls))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
