"""Fan-out to one busy channel: 1,000 / 5,000 / 10,000 subscribers of a single channel.

    python perf/bench_fanout.py [--subscribers 1000,5000,10000] [--deliveries 50000,100000]
                                [--compare /path/to/other/src] [--quick] [--output FILE]

A real ``redis-server``; one ``valorize realtime`` instance pinned to core 0; the subscribers in
``--processes`` child processes pinned to core 1, each a lean raw-socket client
(``fanout_client.py``: frames counted, not decoded, so the clients are not the limit); this
process publishes through the Redis backplane, as the API's outbox relay does, at a constant
rate chosen so that rate × subscribers = the target deliveries/s, for ``--seconds`` per stage.
Every message carries its send time; a sample of the connections (1 in ``--sample``) reports
publish-to-receive latency. Reported per stage: deliveries expected and received, deliveries/s,
P50/P99, the server's CPU (its own process's user+system time) and deliveries per server
CPU-second; per subscriber count, the server's RSS growth per idle connection.

``--compare SRC`` runs the same stages, in the same run, against the server code under SRC
first (e.g. the ``src`` of a checkout of ``main``): before and after on the same machine load.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_realtime import rss_bytes
from fanout_client import run_clients

from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_adapters.redis.server import RedisServer
from valorize_core.testing.net import free_port

KEY = "bench-key"
CHANNEL = "busy"


def start_server(redis_url: str, port: int, src: str | None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VALORIZE_REDIS_URL": redis_url, "VALORIZE_PUSHER_SECRET": "bench", "VALORIZE_PUSHER_KEY": KEY,
           "VALORIZE_REALTIME_PORT": str(port), "VALORIZE_LOG_JSON": "true", "PYTHONWARNINGS": "ignore"}  # fmt: skip
    if src is not None:
        env["PYTHONPATH"] = src
    valorize = Path(sys.executable).with_name("valorize")
    server = subprocess.Popen(["taskset", "-c", "0", str(valorize), "realtime"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the realtime server did not start") from None
            time.sleep(0.1)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(30)
    except subprocess.TimeoutExpired:
        server.kill()


def cpu_split(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of one process (``/proc``). On loopback the kernel's work for a
    write — the sender's TCP stack and the receiver's — is charged to the writer's system time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] * 1000 if values else float("nan")


async def stage(
    backplane: RedisBackplane, pipes: list[Any], per_process: list[int], target: int, seconds: float, pid: int
) -> dict[str, Any]:
    subscribers = sum(per_process)
    rate = max(1, round(target / subscribers))
    total = int(rate * seconds)
    for pipe, n in zip(pipes, per_process, strict=True):
        pipe.send(("stage", total * n))
    for pipe in pipes:
        assert pipe.recv() == "ok"
    user_before, system_before = cpu_split(pid)
    started = time.perf_counter()
    for n in range(total):  # constant rate: message n leaves at started + n / rate
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await backplane.publish(CHANNEL, "tick", json.dumps({"t": time.time(), "n": n}))
    loop = asyncio.get_running_loop()
    results: list[Any] = []
    deadline = time.perf_counter() + 10  # whatever has not arrived 10 s later is lost
    waiting = list(pipes)
    while waiting and time.perf_counter() < deadline:
        for pipe in list(waiting):
            if pipe.poll():
                results.append(pipe.recv())
                waiting.remove(pipe)
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started  # publishing, and the last deliveries' arrival
    user_after, system_after = cpu_split(pid)
    server_user, server_system = user_after - user_before, system_after - system_before
    server_cpu = server_user + server_system
    for pipe in waiting:
        pipe.send(("collect",))
        results.append(await loop.run_in_executor(None, pipe.recv))
    received = sum(r[0] for r in results)
    latencies = sorted(x for r in results for x in r[1])
    return {
        "subscribers": subscribers, "target_deliveries_per_second": target, "rate": rate, "published": total,
        "expected": total * subscribers, "received": received, "deliveries_per_second": received / elapsed,
        "p50_ms": percentile(latencies, 0.50), "p99_ms": percentile(latencies, 0.99),
        "latency_samples": len(latencies), "server_cpu_seconds": server_cpu, "server_user_seconds": server_user,
        "server_system_seconds": server_system,
        "server_core_utilization": server_cpu / elapsed,
        "deliveries_per_server_cpu_second": received / server_cpu if server_cpu else None,
        "disconnected": sum(r[2] for r in results),
    }  # fmt: skip


def run_subscribers(
    redis_url: str, src: str | None, subscribers: int, targets: list[int], seconds: float, processes: int, sample: int
) -> list[dict[str, Any]]:
    port = free_port()
    server = start_server(redis_url, port, src)
    context = multiprocessing.get_context("fork")
    per_process = [subscribers // processes + (i < subscribers % processes) for i in range(processes)]
    pipes, children = [], []
    try:
        before = rss_bytes(server.pid)
        for n in per_process:
            parent, child = context.Pipe()
            process = context.Process(target=run_clients, args=(child, KEY, port, n, CHANNEL, sample, 1), daemon=True)
            process.start()
            pipes.append(parent)
            children.append(process)
        for pipe in pipes:
            if not pipe.poll(300) or pipe.recv() != "ready":
                raise RuntimeError("the subscribers did not connect")
        time.sleep(1)
        per_connection = (rss_bytes(server.pid) - before) / subscribers

        async def stages() -> list[dict[str, Any]]:
            backplane = RedisBackplane.from_url(redis_url)
            try:
                done = []
                for target in targets:
                    print(f"{src or 'this checkout'}: {subscribers:,} subscribers, {target:,}/s", file=sys.stderr)
                    done.append(await stage(backplane, pipes, per_process, target, seconds, server.pid))
                    done[-1]["server_rss_per_idle_connection_kib"] = round(per_connection / 1024, 1)
                    done[-1]["server"] = src or "this checkout"
                    await asyncio.sleep(0.5)
                return done
            finally:
                await backplane.close()

        return asyncio.run(stages())
    finally:
        for pipe in pipes:
            pipe.send(("stop",))
        for process in children:
            process.join(10)
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1000,5000,10000")
    parser.add_argument("--deliveries", default="50000,100000", help="target deliveries/s per stage")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--processes", type=int, default=4, help="client processes (all on core 1)")
    parser.add_argument("--sample", type=int, default=10, help="1 in N connections measures latency")
    parser.add_argument("--compare", default=None, help="another source tree's src/ to run first (before)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 200 subscribers, 1 s")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.subscribers, args.deliveries, args.seconds, args.processes, args.sample = "200", "2000", 1.0, 2, 2
    output = args.output or Path(__file__).parent / "results" / ("fanout-quick.json" if args.quick else "fanout.json")
    results: list[dict[str, Any]] = []
    with RedisServer() as redis:  # not pinned: Redis takes whichever core is free
        os.sched_setaffinity(0, {1})
        for src in [args.compare, None] if args.compare else [None]:
            for subscribers in (int(s) for s in args.subscribers.split(",")):
                targets = [int(d) for d in args.deliveries.split(",")]
                results += run_subscribers(redis.url, src, subscribers, targets, args.seconds, args.processes,
                                           args.sample)  # fmt: skip
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"load average at the end (1, 5, 15 min): {os.getloadavg()}")
    print("| server | subscribers | target deliveries/s | msg/s | expected | received | deliveries/s | P50 | P99 "
          "| server core busy | server CPU user / system | deliveries per server CPU-s "
          "| RSS per idle connection |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['server']} | {r['subscribers']:,} | {r['target_deliveries_per_second']:,} | {r['rate']} "
              f"| {r['expected']:,} | {r['received']:,} | {r['deliveries_per_second']:,.0f} | {r['p50_ms']:.1f} ms "
              f"| {r['p99_ms']:.1f} ms | {r['server_core_utilization']:.0%} "
              f"| {r['server_user_seconds']:.2f} / {r['server_system_seconds']:.2f} s "
              f"| {r['deliveries_per_server_cpu_second'] or 0:,.0f} "
              f"| {r['server_rss_per_idle_connection_kib']} KiB |")  # fmt: skip


if __name__ == "__main__":
    main()
