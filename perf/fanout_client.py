"""A lean Pusher subscriber for fan-out benchmarks: many raw WebSocket connections in one process.

The server's frames are parsed just enough to count them (two or four header bytes, no
masking, no UTF-8 check, no JSON); a sample of the connections also reads each message's
send time (``"t": ...`` in the event's data) for the publish-to-receive latency. Costs a small
fraction of what a ``websockets`` client costs per frame, so one core of clients can keep up
with a server writing 100,000+ frames a second.

Run by ``bench_fanout.py`` as child processes; each speaks to its parent over a pipe:
``("stage", expected)`` resets the counters and answers ``"ok"``; when ``expected`` frames have
arrived (or on ``("collect",)``) it answers ``(received, latencies)``; ``("stop",)`` closes all.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from multiprocessing.connection import Connection

HANDSHAKE = (
    "GET /app/{key}?protocol=7&client=bench HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
TIME_MARK = b'"t\\": '  # the send time inside the event's data (a JSON string within the frame)


def client_frame(payload: bytes) -> bytes:
    """A masked text frame (mask key 0: the payload goes as is, which RFC 6455 allows)."""
    n = len(payload)
    header = bytes([0x81, 0x80 | n]) if n < 126 else bytes([0x81, 0xFE]) + n.to_bytes(2, "big")
    return header + b"\0\0\0\0" + payload


class Subscriber(asyncio.Protocol):
    """One connection: handshake, ``connection_established``, subscribe, then count frames."""

    def __init__(self, owner: Swarm, channel: str, sampled: bool) -> None:
        self.owner = owner
        self.channel = channel
        self.sampled = sampled
        self.buffer = b""
        self.upgraded = False
        self.subscribed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a TCP transport (uvloop's is not a subclass)
        transport.write(HANDSHAKE.format(key=self.owner.key, port=self.owner.port).encode())

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if not self.upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self.buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                raise RuntimeError(buffer[:200].decode(errors="replace"))
            self.upgraded = True
            buffer = buffer[end + 4 :]
        i, size = 0, len(buffer)
        frames = 0
        while size - i >= 2:
            length = buffer[i + 1] & 0x7F
            start = i + 2
            if length == 126:
                if size - i < 4:
                    break
                length = int.from_bytes(buffer[i + 2 : i + 4], "big")
                start = i + 4
            elif length == 127:
                if size - i < 10:
                    break
                length = int.from_bytes(buffer[i + 2 : i + 10], "big")
                start = i + 10
            end = start + length
            if end > size:
                break
            if self.subscribed.done():
                frames += 1
                if self.sampled:
                    mark = buffer.find(TIME_MARK, start, end)
                    if mark >= 0:
                        at = mark + len(TIME_MARK)
                        self.owner.latencies.append(time.time() - float(buffer[at : buffer.index(b",", at)]))
            else:
                self.control(buffer[start:end])
            i = end
        self.buffer = buffer[i:] if i < size else b""
        if frames:
            self.owner.count(frames)

    def control(self, payload: bytes) -> None:
        event = json.loads(payload)["event"]
        if event == "pusher:connection_established":
            subscribe = {"event": "pusher:subscribe", "data": {"channel": self.channel}}
            assert self.transport is not None
            self.transport.write(client_frame(json.dumps(subscribe).encode()))
        elif event == "pusher_internal:subscription_succeeded":
            self.subscribed.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        self.owner.lost += 1


class Swarm:
    """The connections of one process and their counters."""

    def __init__(self, key: str, port: int) -> None:
        self.key = key
        self.port = port
        self.latencies: list[float] = []
        self.received = 0
        self.expected = -1
        self.lost = 0
        self.done = asyncio.Event()

    def count(self, frames: int) -> None:
        self.received += frames
        if self.received >= self.expected >= 0:
            self.done.set()


async def serve_parent(pipe: Connection, key: str, port: int, n: int, channel: str, sample_every: int) -> None:
    loop = asyncio.get_running_loop()
    swarm = Swarm(key, port)
    subscribers = []
    for i in range(n):
        _, subscriber = await loop.create_connection(
            lambda i=i: Subscriber(swarm, channel, i % sample_every == 0), "127.0.0.1", port
        )
        await subscriber.subscribed
        subscribers.append(subscriber)
    pipe.send("ready")
    commands: asyncio.Queue[tuple[object, ...]] = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    while True:
        command = await commands.get()
        if command[0] == "stop":
            break
        if command[0] == "stage":
            swarm.received, swarm.latencies, swarm.expected = 0, [], int(command[1])  # type: ignore[call-overload]
            swarm.done.clear()
            pipe.send("ok")
            waiter = asyncio.ensure_future(swarm.done.wait())
            getter = asyncio.ensure_future(commands.get())
            await asyncio.wait([waiter, getter], return_when=asyncio.FIRST_COMPLETED)
            getter.cancel()
            waiter.cancel()
            pipe.send((swarm.received, swarm.latencies, swarm.lost))
    for subscriber in subscribers:
        if subscriber.transport is not None:
            subscriber.transport.close()


def run_clients(pipe: Connection, key: str, port: int, n: int, channel: str, sample_every: int, core: int) -> None:
    """A child process's body: pinned to ``core``, on uvloop when it is installed."""
    os.sched_setaffinity(0, {core})
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    runner(serve_parent(pipe, key, port, n, channel, sample_every))
