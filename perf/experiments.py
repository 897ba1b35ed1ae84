"""The paper's three experiments on this machine, and each path beside its bare-stack floor.

    python perf/experiments.py [--workers 2]     # the full run (~1,000,000 transactions; ~20 minutes)
    python perf/experiments.py --quick           # the same, small (~30 s of CPU; 2 minutes on a busy machine)

Embedded PostgreSQL 16 and a real redis-server. Many tenants, each with four accounts, twelve
categories and its own bearer token, are seeded with ``--transactions`` in all. The API runs as
in production (``valorize api``: granian, ``--workers`` processes) pinned to core 0 (with two
workers, cores 0 and 1); wrk — a C load generator that outruns the server — is pinned to core 1
and driven by Lua scripts:

* **read**: ``GET /api/transactions`` rotating tenants, alternating all accounts / one account /
  one category, following ``next_cursor`` to later pages;
* **mixed**: 65 % those reads, 20 % ``POST /api/transactions``, 15 % ``GET /api/accounts``; wrk
  runs one thread per connection and each connection is one virtual user with its own tenant and
  token, as the paper's virtual users were.

Each scenario runs ramped stages like the paper's (more connections each stage) and then
constant-rate stages (wrk's ``delay``) that step the offered rate up until P95 crosses the
paper's SLO (300 ms), errors (any answer outside 2xx) appear, or the server cannot keep up — the
knee. Then the **floors**: the cache hit, the list miss (read cache off) and the write, each
measured with ``--connections`` virtual users on the API and on ``floor_apps.stack`` (Litestar,
msgspec and psycopg running the same SQL, nothing else) under the same server and workers, in the
same run. Every stage records CPU per request of the API (its processes, from /proc), of
PostgreSQL (the postmaster and every process it started) and of Redis (``INFO cpu``), and the
floor table divides the project's by the floor's. The async experiment drains ``--tasks`` tasks
(51,580) through the local dispatcher and a worker process on core 0, counting lost and
duplicated effects (``bench_drain.py``).

Output: ``perf/results/experiments-<workers>w[-quick]/`` with one CSV per scenario (stage,
connections, offered rate, req/s, P50/P95/P99, errors, CPU per request), ``floors.csv``,
``experiments.json`` (with the load average before and after), PNG plots like the paper's
Figures 3–6, and Markdown tables: side by side with the paper's Table 1, and project ÷ floor.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import math
import os
import random
import re
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).parent))
import bench_postgres
from bench_cache import cache_counts, cache_delta
from bench_drain import drain
from bench_servers import BENCH_RATE_LIMIT, STACK_FLOOR, cpu_seconds, start_server

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.redis.server import RedisServer
from valorize_adapters.system import TimeOrderedIds
from valorize_core.testing.net import free_port
from valorize_entrypoints.metrics import MULTIPROC_ENV
from valorize_entrypoints.testing import start_worker_process

SLO_P95_MS = 300.0
# The paper's Table 1 (10 Cloud Run instances of 1 vCPU).
PAPER = {
    "read": {"req_s": 470, "peak_req_s": 970, "p95_ms": 158, "vcpus": 10},
    "mixed": {"req_s": 226, "peak_req_s": 450, "p95_ms": 658, "vcpus": 10},
    "async": {"tasks_s": 86, "vcpus": 10},
}

COMMON_LUA = r"""
local tenants = {%(tenants)s}
local lists = {}
local by_id = {}
local n = 0
statuses = {}  -- a global: done() reads every thread's with thread:get
local per_user = %(per_user)s

-- wrk runs setup() in its main Lua state once per thread, and response() in the thread's own
-- state: the threads are kept to gather their statuses at the end. With per_user, wrk runs one
-- thread per connection and each thread is one virtual user with its own tenant (user = its number).
local threads = {}
setup = function(thread)
  table.insert(threads, thread)
  thread:set("user", #threads)
end

-- Each tenant starts at its own point of the visit cycle (3 kinds x 4 accounts x 12 categories
-- = 144 visits; 53 is coprime to it): people do not all open the same list at the same moment.
-- In lockstep, every tenant asked for the same kind of page in the same second, and the misses
-- of a page nobody had read yet arrived as one burst.
for k, t in ipairs(tenants) do t.visits = (k * 53) %% 144 end

local function pick()
  n = n + 1
  local k = (n %% #tenants) + 1
  if per_user and user then k = ((user - 1) %% #tenants) + 1 end
  tenants[k].visits = (tenants[k].visits or 0) + 1
  return tenants[k], tenants[k].visits
end

-- A stage continues the visits of the stages before it (a new wrk process starts a fresh Lua
-- state): replaying from the first visit would re-read exactly the oldest cached pages.
for _ = 1, %(start)d do pick() end

-- One list view per visit, rotating all accounts / one account / one category; each list is
-- read from its first page through PAGES_DEEP pages by following next_cursor, then again from
-- the top (a person paging down a list, then coming back to it later).
function read_request(t, v)
  local kind = v %% 3
  local turn = math.floor(v / 3)
  local path
  if kind == 0 then
    path = "/api/transactions?limit=50"
  elseif kind == 1 then
    path = "/api/transactions?limit=50&account_id=" .. t.accounts[(turn %% 4) + 1]
  else
    path = "/api/transactions?limit=50&category_id=" .. t.categories[(turn %% 12) + 1]
  end
  local key = t.token .. path
  local list = lists[key]
  if list and list.cursor and list.depth < %(pages_deep)d then
    list.depth = list.depth + 1
    path = path .. "&cursor=" .. list.cursor
  else
    list = {depth = 1}
    lists[key] = list
  end
  -- wrk does not say which request a response answers: the API echoes X-Request-ID.
  local id = "list-" .. n
  by_id[id] = list
  return wrk.format("GET", path, {["Authorization"] = "Bearer " .. t.token, ["X-Request-ID"] = id})
end

-- POST /api/transactions: visit v's transaction, on one of the tenant's four accounts (the mixed
-- scenario's writes and the write path beside its floor send the same).
function write_request(t, v)
  local body = string.format(
    '{"account_id":"%%s","booked_on":"2026-11-%%02d","description":"PADARIA REAL %%d","amount":"-%%d.%%02d"}',
    t.accounts[(v %% 4) + 1], (v %% 28) + 1, v, (v %% 90) + 1, v %% 100)
  return wrk.format("POST", "/api/transactions", {["Authorization"] = "Bearer " .. t.token,
    ["Content-Type"] = "application/json"}, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  local id = headers["x-request-id"] or headers["X-Request-ID"]
  local list = id and by_id[id]
  if list then
    by_id[id] = nil
    if status == 200 and body then
      -- next_cursor ends the page: match it in the tail, not across the whole body
      list.cursor = string.match(body, '"next_cursor":"([^"]+)"', math.max(1, #body - 512))
    end
  end
end

done = function(summary, latency, requests)
  local non2xx = 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses") or {}) do
      if status < 200 or status > 299 then non2xx = non2xx + count end
    end
  end
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(90), latency:percentile(95), latency:percentile(99),
    non2xx + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    latency.max))
end
%(delay)s
"""

READ_LUA = r"""
request = function()
  local t, i = pick()
  return read_request(t, i)
end
"""

MIXED_LUA = r"""
request = function()
  local t, i = pick()
  local roll = (i * 7919) % 100
  if roll < 65 then
    return read_request(t, i)
  end
  if roll < 85 then
    return write_request(t, i)
  end
  return wrk.format("GET", "/api/accounts", {["Authorization"] = "Bearer " .. t.token})
end
"""


# The paths measured beside their floors (perf/floor_apps.py ``stack``): one account's first page
# per virtual user, again and again (hit; with the read cache off: miss), and a write per request.
PAGE_LUA = r"""
request = function()
  local t = pick()
  return wrk.format("GET", "/api/transactions?limit=50&account_id=" .. t.accounts[1],
    {["Authorization"] = "Bearer " .. t.token})
end
"""

WRITE_LUA = r"""
request = function()
  return write_request(pick())
end
"""

PAGES_DEEP = 4  # pages read down a list before going back to its top

# The API's near cache, sized for the scenarios' working set: 200 tenants x 68 distinct pages
# (3 list kinds over 4 accounts and 12 categories, 4 pages deep) of tens of KB each, read in a
# cycle, and LRU keeps little of a cycle larger than itself (a trial with 40 tenants: 64 MB, the
# default, served 71 % of the hits, 1 GB all of them). A deployment sizes it to its memory.
NEAR_CACHE_MB = 1024


# A constant offered rate: every delay() takes the next slot of one global schedule, read from a
# real clock (LuaJIT's FFI), so latency does not lower the rate the way a fixed per-connection
# delay does (that sends connections / (delay + latency)). After a stall of over a second the
# schedule restarts from now instead of bursting to catch up.
SCHEDULE_LUA = r"""
local ffi = require("ffi")
ffi.cdef[[ typedef struct { long tv_sec; long tv_usec; } vz_timeval; int gettimeofday(vz_timeval *tv, void *tz); ]]
local tv = ffi.new("vz_timeval")
local function now_ms()
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000 + tonumber(tv.tv_usec) / 1000
end
local next_slot = nil
delay = function()
  local now = now_ms()
  if next_slot == nil or next_slot < now - 1000 then next_slot = now end
  local wait = next_slot - now
  next_slot = next_slot + %(interval_ms).6f
  if wait < 0 then return 0 end
  return wait
end
"""


def lua_script(
    tenants: list[bench_postgres.Tenant], body: str, rate: float | None, start: int = 0, threads: int = 1,
    per_user: bool = False,
) -> str:  # fmt: skip
    """The wrk script: ``rate`` requests/s (``None``: as fast as answered) on one schedule per wrk
    thread, continuing after ``start`` requests sent by the stages before; ``per_user``: each of the
    ``threads`` (one per connection) is a virtual user with its own tenant."""
    entries = []
    for t in tenants:
        accounts = ", ".join(f'"{a}"' for a in t.accounts)
        categories = ", ".join(f'"{c}"' for c in t.categories)
        entries.append(f'{{token = "{t.token}", accounts = {{{accounts}}}, categories = {{{categories}}}}}')
    delay = "" if rate is None else SCHEDULE_LUA % {"interval_ms": 1000.0 * threads / rate}
    return COMMON_LUA % {"tenants": ",\n  ".join(entries), "delay": delay, "pages_deep": PAGES_DEEP,
                         "start": start, "per_user": "true" if per_user else "false"} + body  # fmt: skip


def run_wrk(base: str, script: Path, connections: int, seconds: int, threads: int = 1) -> dict[str, float]:
    """One wrk run, with the CPU it spent itself (its own core's share, to show which side was the
    limit: a load generator near 100 % measures itself, not the server)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
         "-s", str(script), base],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    found = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if found is None:
        raise RuntimeError(f"wrk printed no result:\n{out}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the only child that ran meanwhile
    spent = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    requests, micros, p50, p90, p95, p99, errors, worst = (int(g) for g in found.groups())
    return {"requests": requests, "req_s": requests / (micros / 1e6), "p50_ms": p50 / 1000, "p90_ms": p90 / 1000,
            "p95_ms": p95 / 1000, "p99_ms": p99 / 1000, "max_ms": worst / 1000, "errors": errors,
            "client_cpu": round(spent / (micros / 1e6), 3)}  # fmt: skip


class Meters:
    """CPU seconds spent so far by the API's processes (a granian server and its workers), by
    PostgreSQL (the postmaster and every process it started: backends, WAL writer, checkpointer)
    and by redis-server (its own ``INFO cpu``)."""

    def __init__(self, postmaster: int, redis_url: str) -> None:
        self.postmaster = postmaster
        parsed = urlparse(redis_url)
        self.redis = (parsed.hostname or "127.0.0.1", parsed.port or 6379)
        self.api = 0

    def read(self) -> dict[str, float]:
        return {"api": cpu_seconds(self.api) if self.api else 0.0, "pg": cpu_seconds(self.postmaster),
                "redis": self._redis_cpu()}  # fmt: skip

    def _redis_cpu(self) -> float:
        with socket.create_connection(self.redis, timeout=5) as conn:
            conn.sendall(b"INFO cpu\r\n")  # the answer: $<length>\r\n<text>\r\n
            reply = b""
            while b"\r\n" not in reply or len(reply) < reply.index(b"\r\n") + 2 + int(reply[1 : reply.index(b"\r\n")]):
                chunk = conn.recv(65536)
                if not chunk:
                    raise RuntimeError(f"redis-server closed the connection: {reply!r}")
                reply += chunk
        fields = dict(line.split(":", 1) for line in reply.decode().splitlines() if ":" in line)
        return float(fields["used_cpu_sys"]) + float(fields["used_cpu_user"])


def postmaster_pid(pg: EmbeddedPostgres) -> int:
    """The embedded server's postmaster (the first line of its ``postmaster.pid``)."""
    return int((pg.data_dir / "postmaster.pid").read_text().split()[0])


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """Milliseconds of CPU per request of the API, PostgreSQL, Redis, and of the three together."""
    spent = {part: (after[part] - before[part]) * 1000 / max(requests, 1) for part in before}
    spent["box"] = sum(spent.values())
    return {f"{part}_cpu_ms": round(ms, 4) for part, ms in spent.items()}


def measured(
    base: str, meters: Meters, script: Path, connections: int, seconds: int, threads: int = 1, cache: bool = True
) -> dict[str, Any]:
    """One wrk stage, with the API's cache hit ratio, how busy its core was, and CPU per request."""
    before = cache_counts(base) if cache else {}
    cpu_before, started = meters.read(), time.monotonic()
    result: dict[str, Any] = run_wrk(base, script, connections, seconds, threads)
    cpu_after, elapsed = meters.read(), time.monotonic() - started
    if cache:
        delta = cache_delta(before, cache_counts(base))
        result["cache_hit_ratio"] = None if math.isnan(delta["hit_ratio"]) else round(delta["hit_ratio"], 4)
        result["near_hit_share"] = None if math.isnan(delta["near_share"]) else round(delta["near_share"], 4)
    else:
        result["cache_hit_ratio"] = result["near_hit_share"] = None
    result["server_cpu"] = round((cpu_after["api"] - cpu_before["api"]) / elapsed, 3)
    result.update(cpu_per_request(cpu_before, cpu_after, result["requests"]))
    return result


def progress(result: dict[str, Any]) -> str:
    hits, near = result["cache_hit_ratio"], result.get("near_hit_share")
    shown = "—" if hits is None else f"{hits:.0%}" + ("" if near is None else f" ({near:.0%} of them near)")
    return (f"{result['req_s']:,.0f} req/s, P95 {result['p95_ms']:.1f} ms, {result['errors']} errors, "
            f"hits {shown}, server core {result['server_cpu']:.0%}, wrk core {result['client_cpu']:.0%}")  # fmt: skip


def scenario(
    name: str, base: str, meters: Meters, tenants: list[bench_postgres.Tenant], body: str, workdir: Path,
    ramp: list[int], rates: list[int], seconds: int, per_user: bool = False,
) -> list[dict[str, Any]]:  # fmt: skip
    """Ramped stages, then constant-rate stages up to the knee; ``per_user``: one wrk thread per
    connection, each a virtual user with its own tenant."""
    stages: list[dict[str, Any]] = []
    sent = 0  # requests of the stages so far: each stage continues the users' visits
    at_rate = min(32, max(ramp))  # connections enough to offer a rate; more would only queue
    plan = [(f"ramp {c}", c, None) for c in ramp] + [(f"rate {r}", at_rate, r) for r in rates]
    for label, connections, rate in plan:
        script = workdir / f"{name}-{label.replace(' ', '-')}.lua"
        threads = connections if per_user else 1
        script.write_text(lua_script(tenants, body, rate, sent, threads, per_user))
        result = measured(base, meters, script, connections, seconds, threads)
        sent += result["requests"]
        stages.append({"scenario": name, "stage": label, "connections": connections,
                       "offered_req_s": rate, **result})  # fmt: skip
        print(f"  {name} {label}: {progress(result)}", file=sys.stderr)
        if rate is not None and (result["p95_ms"] > SLO_P95_MS or result["errors"] or result["req_s"] < 0.9 * rate):
            break  # the knee
    return stages


async def seed_tenants(url: str, count: int, transactions: int) -> list[bench_postgres.Tenant]:
    bench_postgres._ids = TimeOrderedIds()
    backend = await PostgresBackend.open(url, run_migrations=False)
    rng = random.Random(7)
    try:
        tenants = [await bench_postgres.make_tenant(backend.app, n) for n in range(count)]
        per = transactions // count
        started = time.perf_counter()
        for i, tenant in enumerate(tenants):
            await bench_postgres.seed(backend, tenant, per, rng, 5_000)
            if i % 20 == 0:
                print(f"  seeded {per * (i + 1):,} transactions", file=sys.stderr)
        print(f"  {per * count:,} transactions in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        async with backend.pool.connection() as conn:
            await conn.execute("ANALYZE")
    finally:
        await backend.close()
    return tenants


# The paths measured beside the floor: (name, wrk script, the read cache on).
PATHS = (("hit", PAGE_LUA, True), ("miss", PAGE_LUA, False), ("write", WRITE_LUA, True))


@contextmanager
def api_server(
    server: str, env: dict[str, str], meters: Meters, workers: int, cores: str
) -> Iterator[str]:  # fmt: skip
    """``server`` (the project's granian, or the floor's) serving on a free port; its base URL.
    ``meters`` reads its processes' CPU while it runs."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="vz-metrics-") as metrics:
        # several workers share their counters through prometheus_client's multiprocess mode, as
        # `valorize api --workers N` sets it up (else /metrics answers from whichever worker it reaches)
        proc = start_server(server, port, {**env, MULTIPROC_ENV: metrics} if workers > 1 else env, workers, cores)
        meters.api = proc.pid
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            meters.api = 0
            proc.terminate()
            proc.wait(20)


def path_costs(
    side: str, base: str, meters: Meters, tenants: list[bench_postgres.Tenant], workdir: Path, kinds: list[str],
    connections: int, seconds: int,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Each path of ``kinds`` on one server: a warm-up (the pages cached, the statements prepared),
    then ``seconds`` of wrk with one virtual user (tenant) per connection, as fast as answered."""
    results: dict[str, dict[str, Any]] = {}
    for name, body, cached in PATHS:
        if name not in kinds:
            continue
        script = workdir / f"{side}-{name}.lua"
        script.write_text(lua_script(tenants, body, None, 0, connections, per_user=True))
        run_wrk(base, script, connections, max(1, seconds // 5), connections)
        results[name] = measured(
            base, meters, script, connections, seconds, connections, cache=cached and side == "project"
        )
        print(f"  {side} {name}: {progress(results[name])}", file=sys.stderr)
    return results


def side_costs(
    side: str, server: str, env: dict[str, str], meters: Meters, workers: int, cores: str,
    tenants: list[bench_postgres.Tenant], workdir: Path, connections: int, seconds: int,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Every path of :data:`PATHS` on ``server`` (the project's granian, or the floor's), in their
    order: the cached ones on a server with ``env``, the miss on one with the read cache off."""
    results: dict[str, dict[str, Any]] = {}
    for cache in (True, False):
        kinds = [name for name, _, cached in PATHS if cached is cache]
        served = env if cache else {**env, "VALORIZE_CACHE": "false"}
        with api_server(server, served, meters, workers, cores) as base:
            results |= path_costs(side, base, meters, tenants, workdir, kinds, connections, seconds)
    return {name: results[name] for name, _, _ in PATHS}


def floor_ratios(project: dict[str, dict[str, Any]], floor: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Project ÷ floor of CPU per request, per path and per part (``None`` where the floor spent none)."""
    ratios: dict[str, dict[str, Any]] = {}
    for name in project:
        ratios[name] = {}
        for part in ("api", "pg", "redis", "box"):
            mine, base = project[name][f"{part}_cpu_ms"], floor[name][f"{part}_cpu_ms"]
            ratios[name][part] = round(mine / base, 3) if base > 0.001 else None
    return ratios


def knee(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """The best stage within the SLO and without errors."""
    good = [s for s in stages if s["p95_ms"] <= SLO_P95_MS and not s["errors"]]
    return max(good, key=lambda s: s["req_s"]) if good else {}


def write_outputs(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "experiments.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    with (out / "floors.csv").open("w", newline="") as handle:
        rows = [{"side": side, "path": name, **stage} for side in ("project", "floor")
                for name, stage in results["paths"][side].items()]  # fmt: skip
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    for name in ("read", "mixed"):
        rows = results[name]["stages"]
        with (out / f"{name}.csv").open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    plot(results, out)


def plot(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for name in ("read", "mixed"):
        stages = results[name]["stages"]
        labels = [s["stage"] for s in stages]
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.bar(labels, [s["req_s"] for s in stages], color="#4c72b0", label="req/s")
        ax.set_ylabel("requests per second")
        ax.tick_params(axis="x", rotation=45)
        lat = ax.twinx()
        for key, style in (("p50_ms", "g.-"), ("p95_ms", "r.-"), ("p99_ms", "k.--")):
            lat.plot(labels, [s[key] for s in stages], style, label=key.replace("_ms", ""))
        lat.axhline(SLO_P95_MS, color="r", alpha=0.3, linestyle=":", label="SLO P95 300 ms")
        lat.set_ylabel("latency (ms)")
        lat.set_yscale("log")
        fig.legend(loc="upper right", fontsize="small")
        ax.set_title(f"{name}: throughput and latency per stage (server on one core)")
        fig.tight_layout()
        fig.savefig(out / f"{name}.png", dpi=110)
        plt.close(fig)
    drained = results["async"]
    if drained is None:  # --tasks 0
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.bar(["paper (10 vCPU)", "Valorize (1 worker core)"], [PAPER["async"]["tasks_s"], drained["tasks_per_second"]],
           color=["#999999", "#4c72b0"])  # fmt: skip
    ax.set_ylabel("tasks per second")
    ax.set_title(f"async: {drained['tasks']:,} tasks, lost {drained['lost']}, duplicated {drained['duplicated']}")
    fig.tight_layout()
    fig.savefig(out / "async.png", dpi=110)
    plt.close(fig)


def table(results: dict[str, Any]) -> str:
    lines = ["| experiment | paper (10 × 1 vCPU) | paper per vCPU | Valorize (server on 1 core) | ratio per vCPU |",
             "|---|---|---|---|---|"]  # fmt: skip
    for name in ("read", "mixed"):
        best, paper = results[name]["knee"], PAPER[name]
        if not best:
            lines.append(
                f"| {name} | {paper['req_s']} req/s, P95 {paper['p95_ms']} ms | — | no stage met the SLO | — |"
            )
            continue
        per_vcpu = paper["req_s"] / paper["vcpus"]
        lines.append(
            f"| {name} | {paper['req_s']} req/s (peak {paper['peak_req_s']}), P95 {paper['p95_ms']} ms "
            f"| {per_vcpu:.0f} req/s | {best['req_s']:,.0f} req/s at P95 {best['p95_ms']:.1f} ms, "
            f"{best['errors']} errors ({best['stage']}) | {best['req_s'] / per_vcpu:.0f}× |"
        )
    a, paper_a = results["async"], PAPER["async"]
    if a is None:  # --tasks 0
        return "\n".join(lines)
    per_vcpu = paper_a["tasks_s"] / paper_a["vcpus"]
    lines.append(
        f"| async drain | 51,580 tasks in 600 s ({paper_a['tasks_s']}/s), 0 lost | {per_vcpu:.1f} tasks/s "
        f"| {a['tasks']:,} tasks in {a['drain_seconds']:.1f} s ({a['tasks_per_second']:,.0f}/s), lost {a['lost']}, "
        f"duplicated {a['duplicated']} | {a['tasks_per_second'] / per_vcpu:.0f}× |"
    )
    return "\n".join(lines)


def floor_table(results: dict[str, Any]) -> str:
    """CPU per request of each path, the project's beside the floor's, measured in one run."""
    paths = results["paths"]
    lines = ["| path | project req/s | floor req/s | API CPU ms (÷ floor) | PostgreSQL CPU ms (÷ floor) "
             "| Redis CPU ms (floor) | box CPU ms (÷ floor) |", "|---|---|---|---|---|---|---|"]  # fmt: skip

    def cell(ours: float, ratio: float | None) -> str:
        return f"{ours:.3f} / {ours / ratio if ratio else 0:.3f} ({ratio:.2f}×)" if ratio else f"{ours:.3f} (—)"

    for name, ours in paths["project"].items():
        bare, ratio = paths["floor"][name], paths["ratios"][name]
        lines.append(
            f"| {name} | {ours['req_s']:,.0f} | {bare['req_s']:,.0f} | {cell(ours['api_cpu_ms'], ratio['api'])} "
            f"| {cell(ours['pg_cpu_ms'], ratio['pg'])} | {ours['redis_cpu_ms']:.3f} ({bare['redis_cpu_ms']:.3f}) "
            f"| {cell(ours['box_cpu_ms'], ratio['box'])} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=51_580, help="tasks of the async drain (0: no drain)")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=1, help="granian workers of the API (and of the floor)")
    parser.add_argument("--connections", type=int, default=16, help="connections of the floor comparison")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    ramp, rates = [8, 16, 32, 64, 128], [250, 500, 1000, 2000, 3000, 5000, 8000]
    if args.quick:
        args.transactions, args.tenants, args.tasks, args.seconds = 4_000, 16, 300, 1
        ramp, rates, args.connections = [8], [500], 8
    # One worker: the API on core 0 and wrk on core 1. Two workers take both cores (wrk stays on core 1).
    cores = "0" if args.workers == 1 else ",".join(str(c) for c in range(min(args.workers, os.cpu_count() or 1)))
    run = f"experiments-{args.workers}w" + ("-quick" if args.quick else "")
    out = args.output or Path(__file__).parent / "results" / run
    results: dict[str, Any] = {"transactions": args.transactions, "tenants": args.tenants, "workers": args.workers,
                               "api_cores": cores, "load_average_before": os.getloadavg(), "paper": PAPER}  # fmt: skip
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-exp-"), delete_on_stop=True)
    url = pg.start()
    try:
        asyncio.run(migrate(url))
        print(f"seeding {args.transactions:,} transactions over {args.tenants} tenants", file=sys.stderr)
        tenants = asyncio.run(seed_tenants(url, args.tenants, args.transactions))
        with RedisServer() as redis, tempfile.TemporaryDirectory(prefix="vz-lua-") as scripts:
            meters = Meters(postmaster_pid(pg), redis.url)
            env = {**os.environ, "VALORIZE_DATABASE_URL": url, "VALORIZE_REDIS_URL": redis.url,
                   "VALORIZE_RUN_MIGRATIONS": "false", "PYTHONWARNINGS": "ignore", **BENCH_RATE_LIMIT,
                   "VALORIZE_NEAR_CACHE_MB": os.environ.get("VALORIZE_NEAR_CACHE_MB", str(NEAR_CACHE_MB))}  # fmt: skip
            workdir = Path(scripts)
            with api_server("granian", env, meters, args.workers, cores) as base:
                for name, body in (("read", READ_LUA), ("mixed", MIXED_LUA)):
                    print(f"{name} scenario", file=sys.stderr)
                    # the mixed scenario's virtual users each have their own tenant, as the paper's did
                    stages = scenario(name, base, meters, tenants, body, workdir, ramp, rates, args.seconds,
                                      per_user=name == "mixed")  # fmt: skip
                    results[name] = {"stages": stages, "knee": knee(stages)}
            print(f"paths beside their floors, {args.connections} connections", file=sys.stderr)
            # each side on servers of its own, started alike (path_costs warms each path up first)
            paths = {
                side: side_costs(side, server, env, meters, args.workers, cores, tenants, workdir, args.connections,
                                 args.seconds)
                for side, server in (("project", "granian"), ("floor", STACK_FLOOR))
            }  # fmt: skip
            results["paths"] = {**paths, "connections": args.connections,
                                "ratios": floor_ratios(paths["project"], paths["floor"])}  # fmt: skip
        results["async"] = None
        if args.tasks:
            print(f"async: draining {args.tasks:,} tasks", file=sys.stderr)
            worker_port = free_port()
            worker = start_worker_process(worker_port, url, "bench", cpu=0)
            try:
                os.sched_setaffinity(0, {1})
                results["async"] = asyncio.run(drain(url, worker_port, args.tasks, 16))
            finally:
                worker.kill()
    finally:
        pg.stop()
    results["load_average_after"] = os.getloadavg()
    write_outputs(results, out)
    print(table(results))
    print()
    print(floor_table(results))


if __name__ == "__main__":
    main()
