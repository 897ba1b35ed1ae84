"""The PostgreSQL session's own cost for a unit of work shaped like a categorized write, alone:
no HTTP, no domain, one connection.

    python perf/bench_session_unit.py [--units 500] [--blocks 7] [--ab REV]

The unit: ``BEGIN``, the tenant's settings and five reads (the opening reads: an advisory lock,
account, categories, rules, word statistics) in the first round trip; two gathered reads (the
neighbour search and the payee memory) in the second; two deferred inserts and ``COMMIT`` in the
third — 12 statements in 3 round trips, as ``POST /api/transactions`` sent (tests/api/test_round_trips.py);
11 where the session has ``hold`` (the lock taken by the settings' statement), as it sends now.

Prints the Python function calls per unit (cProfile, the median of five blocks of 100 units) and the CPU per
unit (``time.process_time``, the median of ``--blocks`` blocks of ``--units``). ``--ab REV``: the
same for ``Session`` as ``session.py`` was at git revision ``REV`` (``profile_requests.py``'s
loader), the blocks alternating with the current one's, so both share the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from valorize_adapters.postgres import EmbeddedPostgres
from valorize_adapters.postgres.session import Session

_OPENING = [
    ("SELECT pg_advisory_xact_lock_shared(%s)", (42,)),
    ("SELECT n, %s::text AS name FROM generate_series(1, 1) AS n", ("account",)),
    ("SELECT n, %s::text AS name FROM generate_series(1, 8) AS n", ("categories",)),
    ("SELECT n FROM generate_series(1, 0) AS n WHERE %s::int > 0", (1,)),
    ("SELECT n, %s::text AS word FROM generate_series(1, 2) AS n", ("padaria",)),
]
_MIDDLE = [
    ("SELECT n, %s::float8 AS score FROM generate_series(1, 5) AS n", (0.5,)),
    ("SELECT n FROM generate_series(1, 1) AS n WHERE %s::text <> ''", ("padaria",)),
]
_INSERT = "INSERT INTO unit_rows (id, tenant_id, note) VALUES (%s, %s, %s)"


async def unit(session: Session, tenant: uuid.UUID) -> None:
    """One categorized write's shape of statements and round trips."""
    if hasattr(session, "hold"):  # the lock taken by the settings' statement (a revision's Session may not)
        session.hold("pg_advisory_xact_lock_shared(%s)", (42,))
        await session.fetch_together(*_OPENING[1:])  # type: ignore[arg-type]
    else:
        await session.fetch_together(*_OPENING)  # type: ignore[arg-type]
    await asyncio.gather(*(session.fetch(q, p) for q, p in _MIDDLE))  # type: ignore[arg-type]
    session.defer(_INSERT, [(uuid.uuid4(), tenant, "row")])
    session.defer(_INSERT, [(uuid.uuid4(), tenant, "event")])
    await session.commit()


async def measure(url: str, units: int, blocks: int, revision: str | None) -> None:
    classes: dict[str, type[Any]] = {"now": Session}
    if revision is not None:
        from profile_requests import _session_class  # the same loader as the whole write's A/B

        classes[revision] = _session_class(revision)
    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await conn.execute("CREATE TABLE unit_rows (id uuid PRIMARY KEY, tenant_id uuid, note text)")
    tenant = uuid.uuid4()

    async def run(cls: type[Any], count: int) -> float:
        started = time.process_time()
        for _ in range(count):
            await unit(cls(conn, tenant), tenant)
        return time.process_time() - started

    for cls in classes.values():
        await run(cls, 100)  # statements prepared (psycopg prepares from their fifth run)
    # Python calls: a unit's count moves a little with the server's speed (psycopg's wait polls
    # once more when an answer is not there yet), so the median of alternating profiled blocks.
    counted: dict[str, list[float]] = {side: [] for side in classes}
    for n in range(5):
        for side in list(classes) if n % 2 == 0 else list(reversed(classes)):
            profile = cProfile.Profile(time.process_time)
            profile.enable()
            await run(classes[side], 100)
            profile.disable()
            counted[side].append(sum(row[1] for row in pstats.Stats(profile).stats.values()) / 100)  # type: ignore[attr-defined]
    for side, counts in counted.items():
        spread = f"{min(counts):.0f}–{max(counts):.0f}"
        print(f"{side}: {statistics.median(counts):.0f} Python calls per unit (median; {spread})")
    spent: dict[str, list[float]] = {side: [] for side in classes}
    for n in range(blocks):
        order = list(classes) if n % 2 == 0 else list(reversed(classes))
        for side in order:
            spent[side].append(await run(classes[side], units) / units * 1e6)
    for side, values in spent.items():
        blocks_text = " ".join(f"{v:.0f}" for v in values)
        print(f"{side}: {statistics.median(values):.0f} µs of CPU per unit (median; blocks {blocks_text})")
    if revision is not None:
        ratios = [a / b for a, b in zip(spent["now"], spent[revision], strict=True)]
        print(f"now ÷ {revision}, per block pair: median {statistics.median(ratios):.3f}")
    await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--blocks", type=int, default=7)
    parser.add_argument("--ab", metavar="REV", help="against the session at git REV, alternating")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            asyncio.run(measure(url, args.units, args.blocks, args.ab))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
