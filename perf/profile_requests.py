"""``valorize api``'s write or list miss, driven in-process through the ASGI app itself (no HTTP
client, no server), for profiling its CPU and counting it per request.

    python perf/profile_requests.py write|miss [--requests 1000] [--beside-floor [--litestar-reading] | --ab REV]
                                     [--calls] [--logs] [--every-follow-up]
    py-spy record -r 400 -f raw -o write.raw -- python perf/profile_requests.py write --requests 3000

Embedded PostgreSQL, the container's wiring (``log_json``, pool of 2; the read cache off for
``miss``), 10 tenants of one account. After a warm-up, prints this process's CPU per request
(``time.process_time``): every cycle of it is the API's own, as there is no client in the
process; and the database's, as ``bench_write_costs.py`` counts it (its client backends'
``/proc/<pid>/stat``). ``bench_write_costs.py`` measures the same requests beside their floors.

``--beside-floor``: the floor's route (``bench_write_costs.py``'s: Litestar, msgspec, and for
``miss`` the project's page query, for ``write`` the row, its split, the balance and one outbox row,
each in one psycopg pipeline on one connection) in the same process and event loop, on the same
tenants' accounts, in alternating blocks of 50 requests — so both sides share whatever the machine
does meanwhile, and project ÷ floor is measured within each block.

``--every-follow-up``: the app writes its follow-up tasks as before they were shared and
conditional (:func:`every_follow_up`): a run with and one without, each beside its floor, compare
what the skipped task rows cost the API and PostgreSQL.

``--ab REV``: the PostgreSQL session and repositories as they are
(``src/valorize_adapters/postgres/{session,repositories}.py``) and as they were at git revision
``REV`` (loaded beside them from ``git show``), in alternating blocks of 50 requests in the same
process: the adapter's units of work, relay and task queue use one or the other, so a change to
them is measured against its predecessor with the machine's load shared.

``--calls``: Python function calls per request (cProfile over the measured requests: deterministic
where timings are not), with the psycopg and session functions that make the most.

``--logs``: the access lines are formatted and written (to ``/dev/null``), as ``valorize api``
writes them; without it logging below WARNING is off, as in ``bench_write_costs.py``.

``--litestar-reading`` (``miss --beside-floor``): a third side in the same blocks, the project with
the list route's ``ANSWER`` taken off (``api/route_checks.py``): Litestar reads the query string
and resolves the route's dependencies, as before the route was answered by the check.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import types
import uuid
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
from litestar import Litestar

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_core.model.events import DomainEvent
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.relay import follow_ups
from valorize_entrypoints.api import create_app
from valorize_entrypoints.collector import PASSES
from valorize_entrypoints.container import Container
from valorize_entrypoints.settings import Settings

TENANTS = 10


async def call(app: Litestar, method: str, path: str, body: bytes = b"", headers: tuple[Any, ...] = (),
               query: bytes = b"") -> tuple[int, bytes]:  # fmt: skip
    """One request through the ASGI app: its status and body."""
    sent = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())] if body else []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": query, "root_path": "",
             "headers": [(b"host", b"bench"), *headers, *sent], "client": ("127.0.0.1", 1),
             "server": ("bench", 80), "state": {}}  # fmt: skip
    given = False
    status, out = 0, bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal given
        if given:
            await asyncio.Event().wait()  # the client never leaves
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            out.extend(message.get("body", b""))

    await app(scope, receive, send)  # type: ignore[arg-type]
    return status, bytes(out)


async def _started(app: Litestar) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    """``app``'s lifespan, started: its inbox (put ``lifespan.shutdown`` to end it) and task."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    await inbox.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}},  # type: ignore[arg-type]
                                       inbox.get, outbox.put))  # fmt: skip
    assert (await outbox.get())["type"] == "lifespan.startup.complete"
    return inbox, lifespan


def database_cpu(url: str) -> float:
    """CPU seconds of the database's client backends so far (this query's own excepted)."""
    total = 0
    with psycopg.connect(url, autocommit=True) as admin:
        query = "SELECT pid FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        for (pid,) in admin.execute(query).fetchall():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def every_follow_up(events: Sequence[DomainEvent]) -> list[Task]:
    """The follow-ups as written before they were shared and conditional: each event's own
    (an evaluation and a fan-out per event), none skipped."""
    return [replace(task, precondition=None) for event in events for task in follow_ups([event])]


async def run(
    url: str,
    mode: str,
    requests: int,
    beside_floor: bool = False,
    gc_threshold: int = Settings().gc_threshold,
    litestar_reading: bool = False,
    every: bool = False,
    ab: str | None = None,
    calls: bool = False,
) -> tuple[float, float]:
    container = Container()
    container.settings.override(
        Settings(
            backend="postgres",
            database_url=url,
            db_pool_min=2,
            db_pool_max=2,
            log_json=True,
            cache=mode != "miss",
            gc_threshold=gc_threshold,
        )
    )
    app = create_app(container)
    inbox, lifespan = await _started(app)
    if every:  # the factory every unit of the app is opened from
        app.state.runtime.app.ports.uow.follow_ups = every_follow_up
    tenants = await signed_up(app)

    await requested(app, "write", tenants, 0, 200)
    await requested(app, mode, tenants, 0, 100)
    database = database_cpu(url)
    passes, paused = sum(PASSES.counts), sum(PASSES.seconds)
    if beside_floor:
        spent = await _beside_floor(app, url, mode, tenants, requests, litestar_reading) * requests / 1000
    elif ab is not None:
        spent = await _beside_revision(app, ab, mode, tenants, requests) * requests / 1000
    elif calls:
        profile = cProfile.Profile(time.process_time)
        started = time.process_time()
        profile.enable()
        await requested(app, mode, tenants, 0, requests)
        profile.disable()
        spent = time.process_time() - started
        _print_calls(profile, requests)
    else:
        started = time.process_time()
        await requested(app, mode, tenants, 0, requests)
        spent = time.process_time() - started
    passes, paused = sum(PASSES.counts) - passes, sum(PASSES.seconds) - paused
    print(f"collector (threshold {gc_threshold or 700}): {passes / requests:.3f} passes and"
          f" {paused / requests * 1000:.3f} ms per request{' (with the floor)' if beside_floor else ''}")  # fmt: skip
    await asyncio.sleep(0.3)  # the relay's last mark
    database = database_cpu(url) - database
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    return spent / requests * 1000, database / requests * 1000


async def signed_up(app: Litestar) -> list[tuple[Any, str]]:
    """``TENANTS`` tenants signed up through the API, each with a checking account: (auth headers,
    account id)."""
    tenants = []
    for n in range(TENANTS):
        signup = {"tenant_name": f"Bench {n}", "email": f"{uuid.uuid4().hex}@example.com", "name": "B"}
        _, body = await call(app, "POST", "/api/signup", json.dumps(signup).encode())
        headers = ((b"authorization", f"Bearer {json.loads(body)['token']}".encode()),)
        account = {"name": "Checking", "kind": "checking", "currency": "BRL", "opening_balance": "1000.00"}
        _, body = await call(app, "POST", "/api/accounts", json.dumps(account).encode(), headers)
        tenants.append((headers, json.loads(body)["id"]))
    return tenants


async def requested(app: Litestar, mode: str, tenants: list[tuple[Any, str]], first: int, count: int) -> None:
    """``count`` writes (``Padaria 0`` to ``Padaria 49``, the categorizer running) or list misses
    (a tenant's account's first page), the tenants in turn from request ``first`` on."""
    for n in range(first, first + count):
        headers, account = tenants[n % TENANTS]
        if mode == "write":
            body = {"account_id": account, "booked_on": "2026-03-01", "description": f"Padaria {n % 50}",
                    "amount": "-1.25"}  # fmt: skip
            status, answer = await call(app, "POST", "/api/transactions", json.dumps(body).encode(), headers)
            assert status == 201, answer
        else:
            query = f"limit=50&account_id={account}".encode()
            status, answer = await call(app, "GET", "/api/transactions", headers=headers, query=query)
            assert status == 200, answer


async def _beside_floor(
    app: Litestar, url: str, mode: str, tenants: list[tuple[Any, str]], requests: int, litestar_reading: bool = False
) -> float:
    """The project's requests and the floor's in alternating blocks (and, with ``litestar_reading``,
    the project's list route without its ``ANSWER``); prints each side and returns the project's
    API CPU per request (ms)."""
    from bench_write_costs import _floor_app  # the floor of the same report (perf/README.md)

    from valorize_entrypoints.api.route_checks import ANSWER

    floor, state = _floor_app(url)
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        rows = await (await admin.execute("SELECT id, tenant_id FROM accounts")).fetchall()
    state()["tenants"] = {row[0]: row[1] for row in rows}
    inbox, lifespan = await _started(floor)
    route = next(r for r in app.routes if r.path == "/api/transactions")
    listing = next(h for h in route.route_handlers if "GET" in h.http_methods)  # type: ignore[union-attr]
    answer = listing.opt[ANSWER]
    sides = ["project", "floor", *(["litestar"] if litestar_reading else [])]
    spent = dict.fromkeys(sides, 0.0)

    async def block(side: str, first: int) -> None:
        if side == "litestar":
            listing.opt.pop(ANSWER)
        started = time.process_time()
        try:
            await requested(floor if side == "floor" else app, mode, tenants, first, 50)
        finally:
            listing.opt[ANSWER] = answer
        spent[side] += time.process_time() - started

    for first in range(0, 100, 50):  # the floor's warm-up (its statements prepared)
        await block("floor", first)
    spent["floor"] = 0.0
    blocks = max(1, requests // 50)
    for n in range(blocks):
        for side in sides[n % len(sides) :] + sides[: n % len(sides)]:
            await block(side, n * 50)
    await inbox.put({"type": "lifespan.shutdown"})
    await lifespan
    per = {side: spent[side] / (blocks * 50) * 1000 for side in sides}
    print(f"{mode}: {per['project']:.3f} ms, its floor: {per['floor']:.3f} ms of API CPU per request: "
          f"{per['project'] / per['floor']:.2f}×")  # fmt: skip
    if litestar_reading:
        print(f"{mode} read by Litestar: {per['litestar']:.3f} ms: {per['litestar'] / per['floor']:.2f}×")
    return per["project"]


_MEASURED = ("session", "repositories")  # the modules --ab loads at a revision


def _module_at(revision: str, name: str) -> types.ModuleType:
    """``valorize_adapters/postgres/<name>.py`` as it was at git ``revision``, loaded as a module
    of its own (it imports the rest of the project as it is)."""
    source = subprocess.run(
        ["git", "show", f"{revision}:src/valorize_adapters/postgres/{name}.py"],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent,
    ).stdout
    module = types.ModuleType(f"{name}_at_{revision}")
    module.__file__ = f"{name}@{revision}.py"
    sys.modules[module.__name__] = module  # its dataclasses and annotations resolve through it
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # the project's own file, at a revision
    return module


def _session_class(revision: str) -> type[Any]:
    """``Session`` as ``session.py`` was at git ``revision``."""
    return _module_at(revision, "session").Session  # type: ignore[no-any-return]


def _units_at(revision: str) -> dict[tuple[types.ModuleType, str], Any]:
    """What the adapter's modules use from the session and the repositories modules (the units
    of work, the relay's and the task queue's sessions, …), as it was at ``revision``: each
    module's name for it, mapped to the old module's class."""
    from valorize_adapters.postgres import repositories, session

    now = {"session": session, "repositories": repositories}
    old = {name: _module_at(revision, name) for name in _MEASURED}
    swapped = {}
    users = [m for n, m in sys.modules.items() if n.startswith("valorize_adapters.postgres.") and m not in now.values()]
    for user in users:
        for name, value in vars(user).items():
            for module in _MEASURED:
                if isinstance(value, type) and value.__module__ == now[module].__name__:
                    swapped[(user, name)] = getattr(old[module], name)
    return swapped


async def _beside_revision(
    app: Litestar, revision: str, mode: str, tenants: list[tuple[Any, str]], requests: int
) -> float:
    """The requests with the session and the repositories as they are and as they were at
    ``revision``, in alternating blocks; prints both and returns the current one's API CPU per
    request (ms)."""
    then = _units_at(revision)
    sides = {"now": {(module, name): getattr(module, name) for module, name in then}, revision: then}
    spent = dict.fromkeys(sides, 0.0)
    pairs: list[float] = []  # now ÷ then, per pair of adjacent blocks (the load moves slower)

    async def block(side: str, first: int) -> None:
        for (module, name), value in sides[side].items():
            setattr(module, name, value)
        started = time.process_time()
        await requested(app, mode, tenants, first, 50)
        took = time.process_time() - started
        spent[side] += took
        pairs.append(took)

    try:
        await block(revision, 0)  # the old statements prepared too
        await block(revision, 50)
        spent[revision] = 0.0
        pairs.clear()
        blocks = max(1, requests // 50)
        for n in range(blocks):
            for side in ("now", revision) if n % 2 == 0 else (revision, "now"):
                await block(side, n * 50)
    finally:
        for (module, name), value in sides["now"].items():
            setattr(module, name, value)
    now, old = (spent[side] / (blocks * 50) * 1000 for side in ("now", revision))
    ratios = [(a / b if n % 2 == 0 else b / a) for n, (a, b) in enumerate(zip(pairs[::2], pairs[1::2], strict=True))]
    print(f"{mode}: {now:.3f} ms now, {old:.3f} ms at {revision} of API CPU per request: {now / old:.3f}×"
          f" (per pair of blocks: median {statistics.median(ratios):.3f}, {len(ratios)} pairs)")  # fmt: skip
    return now


def _print_calls(profile: cProfile.Profile, requests: int) -> None:
    """Python calls per request, in all and under psycopg and the session."""
    stats = pstats.Stats(profile)
    table: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    total = sum(row[1] for row in table.values())
    by_package: dict[str, int] = {}
    for (filename, _, _), row in table.items():
        package = "psycopg" if "/psycopg/" in filename else "session" if filename.endswith("session.py") else ""
        if package:
            by_package[package] = by_package.get(package, 0) + row[1]
    print(f"{total / requests:.0f} Python calls per request (psycopg {by_package.get('psycopg', 0) / requests:.0f},"
          f" the session {by_package.get('session', 0) / requests:.0f})")  # fmt: skip
    stats.sort_stats("tottime").print_stats(r"psycopg|session\.py", 25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("write", "miss"))
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--beside-floor", action="store_true", help="the floor's route in the same run")
    parser.add_argument("--ab", metavar="REV", help="the session as it is against git REV's, alternating")
    parser.add_argument("--calls", action="store_true", help="Python calls per request (cProfile)")
    parser.add_argument("--logs", action="store_true", help="write the access lines (to /dev/null), as in production")
    parser.add_argument("--litestar-reading", action="store_true",
                        help="with miss --beside-floor: also the list route read by Litestar (no ANSWER)")  # fmt: skip
    parser.add_argument("--gc-threshold", type=int, default=Settings().gc_threshold,
                        help="VALORIZE_GC_THRESHOLD of the app (0: Python's collector as it is)")  # fmt: skip
    parser.add_argument("--every-follow-up", action="store_true", help="every follow-up written, one per event")
    args = parser.parse_args()
    if args.logs:  # every request's access line formatted and written, as `valorize api` does
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the whole run)
    else:
        logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as data:
        server = EmbeddedPostgres(Path(data), delete_on_stop=True)
        url = server.start()
        try:
            asyncio.run(migrate(url))
            api, database = asyncio.run(
                run(
                    url,
                    args.mode,
                    args.requests,
                    args.beside_floor,
                    args.gc_threshold,
                    args.litestar_reading,
                    args.every_follow_up,
                    args.ab,
                    args.calls,
                )
            )
        finally:
            server.stop()
    print(f"{args.mode}: {api:.3f} ms of API CPU per request, {database:.3f} ms of PostgreSQL CPU")


if __name__ == "__main__":
    main()
