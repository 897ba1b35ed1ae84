"""What an idle connection costs the realtime server, and how the fan-out writes: each frame
serialized once for all sockets, a burst of messages in few writes per socket."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import subprocess
import sys
import tracemalloc
from typing import TYPE_CHECKING

import uvloop

from valorize_adapters.pusher.backplane import InMemoryBackplane
from valorize_adapters.pusher.protocol import AppConfig
from valorize_adapters.pusher.server import RealtimeServer
from valorize_core.testing.loop import run

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

APP = AppConfig("1", "key", "secret")
CONNECTIONS = 300

#: Opens N Pusher connections (plain blocking sockets: nothing of this process is traced), each
#: subscribed to ``idle``, prints "ready", then holds them until its stdin closes.
HOLDER = r"""
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
subscribe = b'{"event":"pusher:subscribe","data":{"channel":"idle"}}'
frame = bytes([0x81, 0x80 | len(subscribe)]) + b"\0\0\0\0" + subscribe
sockets = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /app/key?protocol=7 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    seen = b""
    while b"connection_established" not in seen:
        seen += s.recv(4096)
    s.sendall(frame)
    while b"subscription_succeeded" not in seen:
        seen += s.recv(4096)
    sockets.append(s)
print("ready", flush=True)
sys.stdin.read()
"""


def idle_connection_bytes() -> float:
    """Python heap per idle, subscribed connection (tracemalloc), the clients in another process."""

    async def go() -> float:
        server = RealtimeServer(APP, InMemoryBackplane())
        async with server.running("127.0.0.1", 0) as port:
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                holder = await asyncio.create_subprocess_exec(
                    sys.executable, "-c", HOLDER, str(port), str(CONNECTIONS),
                    stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                )  # fmt: skip
                assert holder.stdout is not None
                assert holder.stdin is not None
                assert await asyncio.wait_for(holder.stdout.readline(), 60) == b"ready\n"
                assert server.occupancy() == {"idle": CONNECTIONS}
                await asyncio.sleep(0.2)
                gc.collect()
                per_connection = (tracemalloc.get_traced_memory()[0] - before) / CONNECTIONS
            finally:
                tracemalloc.stop()
            holder.stdin.close()
            await holder.wait()
            return per_connection

    return uvloop.run(go())


def test_an_idle_connection_costs_the_server_under_10_kib() -> None:
    """On uvloop as ``valorize realtime`` runs: the websockets connection without a keepalive task
    or the handshake's headers, the session, no outbox, no writer (was 19 KiB). Measured in an
    interpreter of its own: tracemalloc counts every thread's allocations, and a test suite's
    process has other loops running."""
    measured = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
    )  # fmt: skip
    assert measured.returncode == 0, measured.stderr[-3000:]
    per_connection = float(measured.stdout.strip().splitlines()[-1])
    assert per_connection < 10 * 1024, f"{per_connection / 1024:.1f} KiB per idle connection"


async def _subscribed(port: int, count: int, channel: str) -> list[ClientConnection]:
    """``count`` WebSocket clients of the server on ``port``, each subscribed to ``channel``."""
    from websockets.asyncio.client import connect

    clients = []
    for _ in range(count):
        ws = await connect(f"ws://127.0.0.1:{port}/app/key?protocol=7")
        await ws.recv()  # pusher:connection_established
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
        assert json.loads(await ws.recv())["event"] == "pusher_internal:subscription_succeeded"
        clients.append(ws)
    return clients


def test_a_broadcast_reaches_every_subscriber_once_in_order() -> None:
    """The fan-out's shared frame bytes arrive intact: 200 subscribers × 50 messages, in order."""

    async def go() -> None:
        backplane = InMemoryBackplane()
        server = RealtimeServer(APP, backplane)
        async with server.running("127.0.0.1", 0) as port:
            clients = await _subscribed(port, 200, "busy")
            for n in range(50):
                await backplane.publish("busy", "tick", json.dumps({"n": n, "pad": "é" * n * 5}))
            for ws in clients:
                got = [json.loads(json.loads(await asyncio.wait_for(ws.recv(), 5))["data"]) for _ in range(50)]
                assert [g["n"] for g in got] == list(range(50))
                assert got[-1]["pad"] == "é" * 245  # a frame past 125 bytes: the 16-bit length
            for ws in clients:
                await ws.close()
        assert server.stats.delivered == 200 * 50

    run(go())


def test_a_burst_leaves_in_few_writes_per_socket_and_in_order() -> None:
    """Messages that are ready together go to each socket as one write (up to ``BATCH``): 48
    queued at once reach 20 subscribers in 48 / 16 = 3 writes each, not 48, all in order; a
    client event (it excludes its sender) still goes on its own, after what came before it."""

    async def go() -> None:
        backplane = InMemoryBackplane()
        server = RealtimeServer(APP, backplane)
        async with server.running("127.0.0.1", 0) as port:
            clients = await _subscribed(port, 20, "busy")
            writes = server.stats.writes
            for n in range(48):  # all queued before the pump runs again
                await backplane.publish("busy", "tick", json.dumps({"n": n}))
            await backplane.publish("busy", "client-x", json.dumps({"n": 48}), exclude="nobody")
            for ws in clients:
                got = [json.loads(json.loads(await asyncio.wait_for(ws.recv(), 5))["data"]) for _ in range(49)]
                assert [g["n"] for g in got] == list(range(49))
            assert server.stats.writes - writes == 20 * (3 + 1)
            assert server.stats.delivered == 20 * 49
            for ws in clients:
                await ws.close()

    run(go())


if __name__ == "__main__":  # the measurement of the idle-connection test, in a fresh interpreter
    print(idle_connection_bytes())
