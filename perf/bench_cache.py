"""Cache-aside on the read path: list-transactions throughput and latency, cache off/cold/warm.

    python perf/bench_cache.py [--seconds 10] [--quick]

Embedded PostgreSQL (one tenant, 5,000 transactions) and a real redis-server. The API runs
under granian, one worker pinned to core 0; wrk runs pinned to core 1 with 32 connections:

* off  — VALORIZE_CACHE=false: every request reads PostgreSQL;
* cold — every request asks a page no one asked before (a Lua script varies a filter that
  does not change the result), so every request misses and fills the cache;
* warm — the same page over and over (the dashboard case).

The hit ratio comes from the API's own /metrics. Results: a Markdown table and
perf/results/cache.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_servers import parse_wrk, seed, serving

from valorize_adapters.postgres import EmbeddedPostgres
from valorize_adapters.redis.server import RedisServer

# wrk's --latency prints P50/75/90/99; the done() hook reports P95 too.
P95_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("P95: %dus\\n", latency:percentile(95)))
end
"""
COLD_SCRIPT = (
    P95_SCRIPT
    + """
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, wrk.path .. "&amount_max=" .. (1000000 + counter))
end
"""
)


def cache_counts(base: str) -> dict[str, float]:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    return {
        m.group(1): float(m.group(2)) for m in re.finditer(r'valorize_cache_events_total\{event="(\w+)"\} (\S+)', text)
    }


def cache_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Cache events between two :func:`cache_counts`, with ``hit_ratio`` (near or shared hits
    over lookups) and ``near_share`` (the hits served from the API's own memory)."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before)}
    hits = delta.get("hit", 0) + delta.get("near_hit", 0)
    looked = hits + delta.get("miss", 0) + delta.get("early_refresh", 0)
    delta["hit_ratio"] = hits / looked if looked else float("nan")
    delta["near_share"] = delta.get("near_hit", 0) / hits if hits else float("nan")
    return delta


def run_mode(mode: str, url: str, redis_url: str, token: str, seconds: int, scripts: Path) -> dict[str, Any]:
    env = {"VALORIZE_CACHE": "false"} if mode == "off" else {"VALORIZE_REDIS_URL": redis_url}
    path = "/api/transactions?limit=50"
    with serving("granian", url, **env) as (base, _):
        headers = {"Authorization": f"Bearer {token}"}
        if mode == "warm":
            httpx.get(base + path, headers=headers)
        before = cache_counts(base)
        args = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency",
                "-H", f"Authorization: Bearer {token}"]  # fmt: skip
        args += ["-s", str(scripts / ("cold.lua" if mode == "cold" else "p95.lua"))]
        out = subprocess.run([*args, base + path], capture_output=True, text=True, check=True).stdout
        result: dict[str, Any] = parse_wrk(out)
        result["p95_ms"] = int(re.search(r"P95: (\d+)us", out).group(1)) / 1000  # type: ignore[union-attr]
        after = cache_counts(base)
    delta = cache_delta(before, after)
    result["hit_ratio"] = None if math.isnan(delta["hit_ratio"]) else delta["hit_ratio"]
    result["cache_events"] = {k: v for k, v in delta.items() if k not in ("hit_ratio", "near_share")}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rows = 2, 100
    pg = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-cache-"), delete_on_stop=True)
    url = pg.start()
    scripts = Path(tempfile.mkdtemp())
    (scripts / "cold.lua").write_text(COLD_SCRIPT)
    (scripts / "p95.lua").write_text(P95_SCRIPT)
    try:
        token = asyncio.run(seed(url, args.rows))
        with RedisServer() as redis:
            results = {
                mode: run_mode(mode, url, redis.url, token, args.seconds, scripts) for mode in ("off", "cold", "warm")
            }
    finally:
        pg.stop()
    output = args.output or Path(__file__).parent / "results" / ("cache-quick.json" if args.quick else "cache.json")
    output.write_text(json.dumps(results, indent=2) + "\n")
    print("| cache | req/s | P50 | P95 | P99 | hit ratio | non-2xx |")
    print("|---|---|---|---|---|---|---|")
    for mode, r in results.items():
        ratio = "—" if r["hit_ratio"] is None else f"{r['hit_ratio']:.1%}"
        print(f"| {mode} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.1f} ms | {r['p95_ms']:.1f} ms "
              f"| {r['p99_ms']:.1f} ms | {ratio} | {r['non_2xx']:.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
