"""Which ASGI server runs `valorize api`: granian vs uvicorn, one worker each, same app.

    python perf/bench_servers.py [--seconds 10] [--quick]

Embedded PostgreSQL with one tenant (4 accounts, 2,000 transactions). Each server runs one
worker pinned to core 0 (``taskset``); ``wrk`` (Debian package) runs pinned to core 1 with 32
connections against two read routes. Both servers run the same app with JSON access logs on,
as in production. Results: a Markdown table and ``perf/results/servers.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from valorize_adapters.postgres import EmbeddedPostgres, PostgresBackend
from valorize_core import NewAccount, NewTransaction, SignupRequest
from valorize_core.testing.net import free_port
from valorize_entrypoints.testing import answers

BIN = Path(sys.executable).parent
HERE = Path(__file__).parent
PAGE = "/api/transactions?limit=50"
# What the server and the framework cost on their own: the cached page's body from a bare ASGI
# function, and from a one-route Litestar app (perf/floor_apps.py), both under granian.
FLOORS = {"granian + bare ASGI": "floor_apps:bare", "granian + Litestar": "floor_apps:litestar"}


async def seed(url: str, rows: int) -> str:
    backend = await PostgresBackend.open(url)
    vz = backend.app
    signup = await vz.signup(SignupRequest("Bench", "bench@example.com", "B"))
    t = signup.tenant.id
    accounts = [
        (await vz.create_account(NewAccount(t, f"Account {i}", "checking", "BRL", "100.00"))).id for i in range(4)
    ]
    for i in range(rows):
        day = date(2026, 1, 1) + timedelta(days=i % 300)
        await vz.create_transaction(NewTransaction(t, accounts[i % 4], day, f"PADARIA REAL {i}", f"-{1 + i % 90}.50"))
    await backend.close()
    return signup.token_secret


# The bare stack for the experiments' floors (perf/floor_apps.py: same SQL, no auth, middleware or use cases).
STACK_FLOOR = "floor stack"


def command(server: str, port: int, workers: int = 1) -> list[str]:
    target = "valorize_entrypoints.api.app:create_app"
    if server == "granian" or server in FLOORS or server == STACK_FLOOR:  # a floor: an app from floor_apps.py
        if server == STACK_FLOOR:
            app = ["--factory", "floor_apps:stack", "--working-dir", str(HERE)]
        else:
            app = [FLOORS[server], "--working-dir", str(HERE)] if server in FLOORS else ["--factory", target]
        return [str(BIN / "granian"), "--interface", "asgi", *app, "--host", "127.0.0.1",
                "--port", str(port), "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    return [str(BIN / "uvicorn"), "--factory", target, "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--log-level", "warning"]  # fmt: skip


def parse_wrk(text: str) -> dict[str, float]:
    def ms(value: str) -> float:
        number, unit = re.match(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
        return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    out = {"requests_per_second": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        out[f"p{pct}_ms"] = ms(re.search(rf"\s{pct}%\s+(\S+)", text).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    out["non_2xx"] = float(errors.group(1)) if errors else 0.0
    return out


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children (a server's workers)."""
    pids = [str(pid), *subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()]
    total = 0
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def start_server(
    server: str, port: int, env: dict[str, str], workers: int = 1, cores: str = "0"
) -> subprocess.Popen[bytes]:
    """The API under ``server`` with ``workers`` processes on ``cores`` (a taskset list), once ``/ready``
    answers."""
    proc = subprocess.Popen(
        ["taskset", "-c", cores, *command(server, port, workers)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return answering(proc, f"http://127.0.0.1:{port}/ready", server, 60)


def answering(proc: subprocess.Popen[bytes], url: str, what: str, seconds: float) -> subprocess.Popen[bytes]:
    """``proc`` once ``url`` answers 200; killed, and a ``RuntimeError`` naming ``what``, if it
    exits first or ``seconds`` pass."""
    if not answers(proc, url, seconds):
        proc.kill()
        raise RuntimeError(f"{what} did not start")
    return proc


# A benchmark's one token sends thousands of requests a second: far above the API's default
# per-token limit, which would answer 429s. The limiter stays on (its one counter increment per
# request is part of what is measured) with a limit no benchmark reaches.
BENCH_RATE_LIMIT = {"VALORIZE_RATE_LIMIT_PER_TOKEN": "1000000000/minute"}


@contextmanager
def serving(server: str, url: str, **env: str) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``server`` on the database at ``url`` (and ``env`` on top); yields its base URL and process."""
    port = free_port()
    base_env = {"VALORIZE_DATABASE_URL": url, "VALORIZE_RUN_MIGRATIONS": "false", "PYTHONWARNINGS": "ignore"}
    proc = start_server(server, port, {**os.environ, **base_env, **BENCH_RATE_LIMIT, **env})
    try:
        yield f"http://127.0.0.1:{port}", proc
    finally:
        proc.terminate()
        proc.wait(20)


def measure(server: str, url: str, token: str, seconds: int, **env: str) -> dict[str, Any]:
    routes = (
        (("transactions_page", PAGE),)
        if server in FLOORS
        else (("accounts", "/api/accounts"), ("transactions_page", PAGE))
    )
    results: dict[str, Any] = {}
    with serving(server, url, **env) as (base, proc):
        for name, path in routes:
            cpu = cpu_seconds(proc.pid)
            run = subprocess.run(
                ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s", "--latency",
                 "-H", f"Authorization: Bearer {token}", base + path],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            results[name] = parse_wrk(run.stdout)
            served = results[name]["requests_per_second"] * seconds
            results[name]["server_cpu_ms_per_request"] = (cpu_seconds(proc.pid) - cpu) * 1000 / max(served, 1)
    return results


def page_body(url: str, token: str) -> bytes:
    """The cached page's body, as `valorize api` serves it (for the floors)."""
    with serving("granian", url) as (base, _):
        response = httpx.get(base + PAGE, headers={"Authorization": f"Bearer {token}"})
        response.raise_for_status()
        return response.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.rows = 2, 100
    if not shutil.which("wrk") or not shutil.which("taskset"):
        sys.exit("needs wrk and taskset (Debian: apt-get install wrk util-linux)")
    server = EmbeddedPostgres(tempfile.mkdtemp(prefix="vz-servers-"), delete_on_stop=True)
    url = server.start()
    try:
        token = asyncio.run(seed(url, args.rows))
        results = {name: measure(name, url, token, args.seconds) for name in ("granian", "uvicorn")}
        with tempfile.NamedTemporaryFile(suffix=".json") as body:
            body.write(page_body(url, token))
            body.flush()
            floors = {name: measure(name, url, token, args.seconds, VALORIZE_FLOOR_BODY=body.name) for name in FLOORS}
            results.update(floors)
    finally:
        server.stop()
    output = args.output or Path(__file__).parent / "results" / ("servers-quick.json" if args.quick else "servers.json")
    output.write_text(json.dumps(results, indent=2) + "\n")
    print("| server | route | req/s | P50 | P90 | P99 | non-2xx | server CPU per request |")
    print("|---|---|---|---|---|---|---|---|")
    for name, routes in results.items():
        for route, r in routes.items():
            cpu = r["server_cpu_ms_per_request"]
            print(f"| {name} | {route} | {r['requests_per_second']:,.0f} | {r['p50_ms']:.1f} ms | {r['p90_ms']:.1f} ms "
                  f"| {r['p99_ms']:.1f} ms | {r['non_2xx']:.0f} | {cpu:.3f} ms |")  # fmt: skip


if __name__ == "__main__":
    main()
