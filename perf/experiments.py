"""The paper's three experiments on this machine: read-intensive, mixed, and the async drain.

    python perf/experiments.py            # the full run (~1,000,000 transactions; ~15 minutes)
    python perf/experiments.py --quick    # the same, small (~2 minutes)

Embedded PostgreSQL 16 and a real redis-server. Many tenants, each with four accounts, twelve
categories and its own bearer token, are seeded with ``--transactions`` in all. The API runs as
in production (``valorize api``: granian, one worker) pinned to core 0; wrk — a C load generator
that outruns the server — is pinned to core 1 and driven by Lua scripts:

* **read**: ``GET /api/transactions`` rotating tenants, alternating all accounts / one account /
  one category, following ``next_cursor`` to later pages;
* **mixed**: 65 % those reads, 20 % ``POST /api/transactions``, 15 % ``GET /api/accounts``,
  each virtual user (connection slot) with its own tenant and token.

Each scenario runs ramped stages like the paper's (more connections each stage) and then
constant-rate stages (wrk's per-connection ``delay``) that step the offered rate up until P95
crosses the paper's SLO (300 ms), errors appear, or the server cannot keep up — the knee.
The async experiment drains ``--tasks`` tasks (51,580) through the local dispatcher and a worker
process on core 0, counting lost and duplicated effects (``bench_drain.py``).

Output: ``perf/results/experiments[-quick]/`` with one CSV per scenario (stage, connections,
offered rate, req/s, P50/P95/P99, errors), ``experiments.json``, PNG plots like the paper's
Figures 3–6, and a Markdown table side by side with the paper's Table 1, per vCPU.
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
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import bench_postgres
from bench_cache import cache_counts, cache_delta
from bench_drain import drain
from bench_servers import BENCH_RATE_LIMIT, cpu_seconds, start_server

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend, migrate
from valorize_adapters.redis.server import RedisServer
from valorize_adapters.system import TimeOrderedIds
from valorize_core.testing.net import free_port
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
local statuses = {}

-- Each tenant starts at its own point of the visit cycle (3 kinds x 4 accounts x 12 categories
-- = 144 visits; 53 is coprime to it): people do not all open the same list at the same moment.
-- In lockstep, every tenant asked for the same kind of page in the same second, and the misses
-- of a page nobody had read yet arrived as one burst.
for k, t in ipairs(tenants) do t.visits = (k * 53) %% 144 end

local function pick()
  n = n + 1
  local k = (n %% #tenants) + 1
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
  for status, count in pairs(statuses) do
    if status < 200 or status > 299 then non2xx = non2xx + count end
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
    local body = string.format(
      '{"account_id":"%s","booked_on":"2026-11-%02d","description":"PADARIA REAL %d","amount":"-%d.%02d"}',
      t.accounts[(i % 4) + 1], (i % 28) + 1, i, (i % 90) + 1, i % 100)
    return wrk.format("POST", "/api/transactions", {["Authorization"] = "Bearer " .. t.token,
      ["Content-Type"] = "application/json"}, body)
  end
  return wrk.format("GET", "/api/accounts", {["Authorization"] = "Bearer " .. t.token})
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


def lua_script(tenants: list[bench_postgres.Tenant], body: str, rate: float | None, start: int = 0) -> str:
    """The wrk script: ``rate`` requests/s on one global schedule (``None``: as fast as answered),
    continuing after ``start`` requests sent by the stages before."""
    entries = []
    for t in tenants:
        accounts = ", ".join(f'"{a}"' for a in t.accounts)
        categories = ", ".join(f'"{c}"' for c in t.categories)
        entries.append(f'{{token = "{t.token}", accounts = {{{accounts}}}, categories = {{{categories}}}}}')
    delay = "" if rate is None else SCHEDULE_LUA % {"interval_ms": 1000.0 / rate}
    return COMMON_LUA % {"tenants": ",\n  ".join(entries), "delay": delay, "pages_deep": PAGES_DEEP,
                         "start": start} + body  # fmt: skip


def run_wrk(base: str, script: Path, connections: int, seconds: int) -> dict[str, float]:
    """One wrk run, with the CPU it spent itself (its own core's share, to show which side was the
    limit: a load generator near 100 % measures itself, not the server)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(
        ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
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


def measured(base: str, server_pid: int, script: Path, connections: int, seconds: int) -> dict[str, Any]:
    """One wrk stage, with the API's cache hit ratio and how busy its core was."""
    before, cpu_before, started = cache_counts(base), cpu_seconds(server_pid), time.monotonic()
    result: dict[str, Any] = run_wrk(base, script, connections, seconds)
    cpu, elapsed, after = cpu_seconds(server_pid) - cpu_before, time.monotonic() - started, cache_counts(base)
    delta = cache_delta(before, after)
    result["cache_hit_ratio"] = None if math.isnan(delta["hit_ratio"]) else round(delta["hit_ratio"], 4)
    result["near_hit_share"] = None if math.isnan(delta["near_share"]) else round(delta["near_share"], 4)
    result["server_cpu"] = round(cpu / elapsed, 3)
    return result


def progress(result: dict[str, Any]) -> str:
    hits, near = result["cache_hit_ratio"], result.get("near_hit_share")
    shown = "—" if hits is None else f"{hits:.0%}" + ("" if near is None else f" ({near:.0%} of them near)")
    return (f"{result['req_s']:,.0f} req/s, P95 {result['p95_ms']:.1f} ms, {result['errors']} errors, "
            f"hits {shown}, server core {result['server_cpu']:.0%}, wrk core {result['client_cpu']:.0%}")  # fmt: skip


def scenario(
    name: str, base: str, server_pid: int, tenants: list[bench_postgres.Tenant], body: str, workdir: Path,
    ramp: list[int], rates: list[int], seconds: int,
) -> list[dict[str, Any]]:  # fmt: skip
    """Ramped stages, then constant-rate stages up to the knee."""
    stages: list[dict[str, Any]] = []
    sent = 0  # requests of the stages so far: each stage continues the users' visits
    at_rate = min(32, max(ramp))  # connections enough to offer a rate; more would only queue
    plan = [(f"ramp {c}", c, None) for c in ramp] + [(f"rate {r}", at_rate, r) for r in rates]
    for label, connections, rate in plan:
        script = workdir / f"{name}-{label.replace(' ', '-')}.lua"
        script.write_text(lua_script(tenants, body, rate, sent))
        result = measured(base, server_pid, script, connections, seconds)
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


def knee(stages: list[dict[str, Any]]) -> dict[str, Any]:
    """The best stage within the SLO and without errors."""
    good = [s for s in stages if s["p95_ms"] <= SLO_P95_MS and not s["errors"]]
    return max(good, key=lambda s: s["req_s"]) if good else {}


def write_outputs(results: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "experiments.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
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
    per_vcpu = paper_a["tasks_s"] / paper_a["vcpus"]
    lines.append(
        f"| async drain | 51,580 tasks in 600 s ({paper_a['tasks_s']}/s), 0 lost | {per_vcpu:.1f} tasks/s "
        f"| {a['tasks']:,} tasks in {a['drain_seconds']:.1f} s ({a['tasks_per_second']:,.0f}/s), lost {a['lost']}, "
        f"duplicated {a['duplicated']} | {a['tasks_per_second'] / per_vcpu:.0f}× |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=51_580)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    ramp, rates = [8, 16, 32, 64, 128], [250, 500, 1000, 2000, 3000, 5000, 8000]
    if args.quick:
        args.transactions, args.tenants, args.tasks, args.seconds = 20_000, 20, 2_000, 3
        ramp, rates = [8, 32], [250, 1000, 4000]
    out = args.output or Path(__file__).parent / "results" / ("experiments-quick" if args.quick else "experiments")
    results: dict[str, Any] = {"transactions": args.transactions, "tenants": args.tenants, "paper": PAPER}
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-exp-"), delete_on_stop=True)
    url = pg.start()
    try:
        asyncio.run(migrate(url))
        print(f"seeding {args.transactions:,} transactions over {args.tenants} tenants", file=sys.stderr)
        tenants = asyncio.run(seed_tenants(url, args.tenants, args.transactions))
        with RedisServer() as redis, tempfile.TemporaryDirectory(prefix="vz-lua-") as scripts:
            port = free_port()
            env = {**os.environ, "VALORIZE_DATABASE_URL": url, "VALORIZE_REDIS_URL": redis.url,
                   "VALORIZE_RUN_MIGRATIONS": "false", "PYTHONWARNINGS": "ignore", **BENCH_RATE_LIMIT,
                   "VALORIZE_NEAR_CACHE_MB": os.environ.get("VALORIZE_NEAR_CACHE_MB", str(NEAR_CACHE_MB))}  # fmt: skip
            api = start_server("granian", port, env)
            base = f"http://127.0.0.1:{port}"
            try:
                for name, body in (("read", READ_LUA), ("mixed", MIXED_LUA)):
                    print(f"{name} scenario", file=sys.stderr)
                    stages = scenario(name, base, api.pid, tenants, body, Path(scripts), ramp, rates, args.seconds)
                    results[name] = {"stages": stages, "knee": knee(stages)}
            finally:
                api.terminate()
                api.wait(20)
        print(f"async: draining {args.tasks:,} tasks", file=sys.stderr)
        worker_port = free_port()
        worker = start_worker_process(worker_port, url, "bench", cpu=0)
        try:
            os.sched_setaffinity(0, {1})
            results["async"] = asyncio.run(drain(url, worker_port, args.tasks, 16))
        finally:
            worker.kill()
            worker.wait(10)
    finally:
        pg.stop()
    write_outputs(results, out)
    print(table(results))


if __name__ == "__main__":
    main()
