"""A list miss under wrk beside its floor, at several connection counts, in one run.

    python perf/bench_miss_floor.py [--connections 16 64] [--seconds 10] [--tenants 64]

``experiments.py``'s *miss* path alone (its servers, wrk scripts and meters): one account's
first page, ``VALORIZE_CACHE=false``, each wrk connection a virtual user with its own tenant;
the project's ``valorize api`` under granian on core 0, then the floor (``floor_apps.stack``:
Litestar, msgspec and a psycopg pool running the project's page query) the same way; wrk on
core 1. CPU per request of the API's processes and of PostgreSQL, and project ÷ floor, per
connection count. ``experiments.py`` runs the same comparison at one count, after the read and
mixed scenarios (~10 minutes); this takes about a minute per count.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from experiments import (
    BENCH_RATE_LIMIT,
    STACK_FLOOR,
    Meters,
    api_server,
    path_costs,
    postmaster_pid,
    seed_tenants,
)

from valorize_adapters.postgres import EmbeddedPostgres, migrate
from valorize_adapters.redis.server import RedisServer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--tenants", type=int, default=64)
    parser.add_argument("--transactions", type=int, default=64_000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    results: dict[str, Any] = {"load_average_before": os.getloadavg(), "project": {}, "floor": {}}
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-miss-"), delete_on_stop=True)
    url = pg.start()
    try:
        asyncio.run(migrate(url))
        tenants = asyncio.run(seed_tenants(url, args.tenants, args.transactions))
        with RedisServer() as redis, tempfile.TemporaryDirectory(prefix="vz-lua-") as scripts:
            meters = Meters(postmaster_pid(pg), redis.url)
            env = {**os.environ, "VALORIZE_DATABASE_URL": url, "VALORIZE_REDIS_URL": redis.url,
                   "VALORIZE_RUN_MIGRATIONS": "false", "PYTHONWARNINGS": "ignore", "VALORIZE_CACHE": "false",
                   **BENCH_RATE_LIMIT}  # fmt: skip
            for side, server in (("project", "granian"), ("floor", STACK_FLOOR)):
                with api_server(server, env, meters, 1, "0") as base:
                    for connections in args.connections:
                        measured = path_costs(side, base, meters, tenants, Path(scripts), ["miss"], connections,
                                              args.seconds)  # fmt: skip
                        results[side][connections] = measured["miss"]
    finally:
        pg.stop()
    results["load_average_after"] = os.getloadavg()
    out = args.output or Path(__file__).parent / "results" / "miss_floor.json"
    out.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print("| connections | req/s project / floor | API CPU (ms) project / floor | ÷ | PostgreSQL CPU (ms) | ÷ |")
    print("|---|---|---|---|---|---|")
    for connections in args.connections:
        mine, bare = results["project"][connections], results["floor"][connections]
        print(f"| {connections} | {mine['req_s']:,.0f} / {bare['req_s']:,.0f} "
              f"| {mine['api_cpu_ms']:.3f} / {bare['api_cpu_ms']:.3f} | {mine['api_cpu_ms'] / bare['api_cpu_ms']:.2f}× "
              f"| {mine['pg_cpu_ms']:.3f} / {bare['pg_cpu_ms']:.3f} | {mine['pg_cpu_ms'] / bare['pg_cpu_ms']:.2f}× |",
              file=sys.stdout)  # fmt: skip


if __name__ == "__main__":
    main()
