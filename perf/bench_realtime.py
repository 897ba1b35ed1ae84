"""Realtime fan-out: N WebSocket connections, M published messages a second.

    python perf/bench_realtime.py [--quick] [--output FILE]

A real ``redis-server``; one ``valorize realtime`` instance in its own process pinned to core 0;
this process (core 1) opens N Pusher connections, subscribes them evenly to C public channels
(each message reaches N/C clients), and publishes through the Redis backplane — exactly as the
API's outbox relay does — at a constant rate M for D seconds. Each message carries its send
time; receivers record publish-to-receive latency. Reported per stage: messages published,
deliveries expected and received, deliveries/s, P50/P99 latency, slow-client disconnects.
Results: a Markdown table and perf/results/realtime.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_servers import cpu_seconds
from websockets.asyncio.client import ClientConnection, connect

from valorize_adapters.pusher.backplane import RedisBackplane
from valorize_adapters.redis.server import RedisServer
from valorize_core.testing.net import free_port

KEY = "bench-key"


def start_instance(redis_url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VALORIZE_REDIS_URL": redis_url, "VALORIZE_PUSHER_SECRET": "bench", "VALORIZE_PUSHER_KEY": KEY,
           "VALORIZE_REALTIME_PORT": str(port), "VALORIZE_LOG_JSON": "true", "PYTHONWARNINGS": "ignore"}  # fmt: skip
    valorize = Path(sys.executable).with_name("valorize")
    return subprocess.Popen(["taskset", "-c", "0", str(valorize), "realtime"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def rss_bytes(pid: int) -> int:
    """The resident memory of a process (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


async def open_clients(port: int, n: int, channels: int) -> list[ClientConnection]:
    clients: list[ClientConnection] = []
    for i in range(n):
        ws = await connect(f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7", max_queue=None, compression=None)
        await ws.recv()  # connection_established
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": f"bench-{i % channels}"}}))
        await ws.recv()  # subscription_succeeded
        clients.append(ws)
    return clients


async def stage(
    backplane: RedisBackplane, clients: list[ClientConnection], channels: int, rate: int, seconds: float, pid: int
) -> dict[str, Any]:
    latencies: list[float] = []
    received = 0
    expected = int(rate * seconds) * (len(clients) // channels)
    all_in = asyncio.Event()

    async def receive(ws: ClientConnection) -> None:
        nonlocal received
        async for raw in ws:
            message = json.loads(raw)
            if message.get("event") == "tick":
                latencies.append(time.time() - json.loads(message["data"])["t"])
                received += 1
                if received == expected:
                    all_in.set()

    readers = [asyncio.create_task(receive(ws)) for ws in clients]
    total = int(rate * seconds)
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    for n in range(total):  # constant rate: message n leaves at started + n / rate
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await backplane.publish(f"bench-{n % channels}", "tick", json.dumps({"t": time.time(), "n": n}))
    publish_seconds = time.perf_counter() - started
    with contextlib.suppress(TimeoutError):  # whatever has not arrived 10 s later is lost
        await asyncio.wait_for(all_in.wait(), 10)
    elapsed = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - cpu_before
    for task in readers:
        task.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies else float("nan")

    return {
        "connections": len(clients), "channels": channels, "rate": rate, "published": total,
        "publish_seconds": publish_seconds, "published_per_second": total / publish_seconds,
        "expected": expected, "received": received, "deliveries_per_second": received / elapsed,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99), "server_core_utilization": server_cpu / elapsed,
        "deliveries_per_server_cpu_second": received / server_cpu if server_cpu else None,
    }  # fmt: skip


async def run(
    redis_url: str, port: int, connections: int, channels: int, rates: list[int], seconds: float, pid: int
) -> Any:
    backplane = RedisBackplane.from_url(redis_url)
    before = rss_bytes(pid)
    clients = await open_clients(port, connections, channels)
    await asyncio.sleep(1)
    per_connection = (rss_bytes(pid) - before) / connections
    try:
        results = []
        for rate in rates:
            results.append(await stage(backplane, clients, channels, rate, seconds, pid))
            results[-1]["server_rss_per_idle_connection_kib"] = round(per_connection / 1024, 1)
            await asyncio.sleep(0.5)
        return results
    finally:
        await asyncio.gather(*(ws.close() for ws in clients), return_exceptions=True)
        await backplane.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=100)
    parser.add_argument("--rates", default="100,1000,2000,3000")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if args.quick:
        args.connections, args.channels, args.rates, args.seconds = 100, 10, "100,300", 2.0
    rates = [int(r) for r in args.rates.split(",")]
    with RedisServer() as redis:
        port = free_port()
        instance = start_instance(redis.url, port)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    import socket

                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or instance.poll() is not None:
                        raise RuntimeError("the realtime server did not start") from None
                    time.sleep(0.1)
            os.sched_setaffinity(0, {1})
            results = asyncio.run(
                run(redis.url, port, args.connections, args.channels, rates, args.seconds, instance.pid)
            )
        finally:
            instance.terminate()
            try:
                instance.wait(30)
            except subprocess.TimeoutExpired:
                instance.kill()
                print("the realtime server did not stop within 30 s of SIGTERM", file=sys.stderr)
    name = "realtime-quick.json" if args.quick else "realtime.json"
    output = args.output or Path(__file__).parent / "results" / name
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(
        "| connections | channels | target msg/s | published msg/s | deliveries expected | received "
        "| deliveries/s | P50 | P99 | server core busy | deliveries per server CPU-s | server RSS per idle connection |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['connections']:,} | {r['channels']} | {r['rate']:,} | {r['published_per_second']:,.0f} "
              f"| {r['expected']:,} | {r['received']:,} | {r['deliveries_per_second']:,.0f} | {r['p50_ms']:.1f} ms "
              f"| {r['p99_ms']:.1f} ms | {r['server_core_utilization']:.0%} "
              f"| {r['deliveries_per_server_cpu_second'] or 0:,.0f} "
              f"| {r['server_rss_per_idle_connection_kib']} KiB |")  # fmt: skip


if __name__ == "__main__":
    main()
