"""The realtime server: Pusher protocol sessions on the ``websockets`` library, over a backplane.

Each connection runs a :class:`~valorize_adapters.pusher.protocol.PusherSession` (the protocol
logic, sans I/O) and carries out the actions it returns. Channel messages are serialized once
and written straight to every subscriber's socket (no task, await or frame building per client);
messages read from the backplane together leave together, one write per socket. Other frames,
and messages for a client that still has frames queued, go through a bounded per-connection
outbox drained by the connection's own writer (both exist only while frames are queued). A slow
client never delays the others: when its outbox is full, or its socket buffer passes
``max_buffer_bytes``, it is disconnected (4100, reconnect later) instead of holding up the
fan-out. The instance listens on the backplane only to channels that have local subscribers,
and reports its subscription counts for ``GET /apps/{id}/channels``.

A gap in a channel's sequence numbers (the backplane lost messages) is counted, logged, and
announced to that channel's local subscribers as ``valorize:resync`` so they can refetch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractContextManager, asynccontextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import OPEN

from valorize_adapters.pusher.backplane import Backplane, BackplaneUnavailable, ChannelMessage
from valorize_adapters.pusher.protocol import (
    SERVER_TO_USER,
    WATCHLIST,
    Action,
    AppConfig,
    Broadcast,
    Close,
    Join,
    Leave,
    Member,
    PusherSession,
    Send,
    SignIn,
    check_connection,
    error,
    frame,
    is_cache_channel,
)
from valorize_adapters.pusher.webhooks import ChannelOccupancy, PusherWebhooks

__all__ = ["TERMINATE", "RealtimeServer", "ServerStats"]

log = logging.getLogger("valorize.realtime")

#: On a user's ``#server-to-user-`` channel: close every connection signed in as that user (the
#: HTTP API's ``terminate_connections``; publishers cannot send ``pusher_internal:`` events).
TERMINATE = "pusher_internal:terminate"
#: A user's connections that signed in, kept as presence members of this internal channel (across
#: instances, expiring with a dead instance): the user is online while it has one.
ONLINE = "#online-"
#: ``pusher:error`` code of a client event the backplane could not take (Redis away); the
#: connection stays open (Pusher's 4300–4399: an error that does not close the connection).
UNAVAILABLE = 4399
#: At most this many messages are fanned out together (one write per socket); then the loop
#: runs, so sockets drain and slow clients' writers catch up between batches.
BATCH = 16


def _watchlist_events(name: str, user_ids: list[str]) -> str:
    """What pusher-js's ``user.watchlist`` binds: ``online`` / ``offline`` for those users."""
    return frame("pusher_internal:watchlist_events", {"events": [{"name": name, "user_ids": user_ids}]})


@dataclass
class ServerStats:
    """Counters of one instance."""

    connections: int = 0
    messages_in: int = 0
    delivered: int = 0
    writes: int = 0  # socket writes of the fan-out (a batch of messages is one write per socket)
    slow_disconnects: int = 0
    gaps: int = 0
    resyncs: int = 0
    pump_failures: int = 0
    errors: dict[int, int] = field(default_factory=lambda: defaultdict(int))


class _Client:
    """One connection: its session, its bounded outbox and the writer draining it. The outbox
    exists and the writer is a task only while frames are queued: an idle connection holds
    neither (memory per idle connection, docs/realtime.md)."""

    __slots__ = ("overflowed", "protocol", "queue", "queue_size", "session", "transport", "watching", "writer", "ws")

    def __init__(self, ws: ServerConnection, session: PusherSession, queue_size: int) -> None:
        self.ws = ws
        self.protocol = ws.protocol  # the sans-I/O state (OPEN?) and the socket, for the fan-out
        self.transport = ws.transport
        self.session = session
        self.queue_size = queue_size
        self.queue: deque[str] | None = None  # frames waiting for the writer, oldest first
        self.overflowed = False
        self.writer: asyncio.Task[None] | None = None
        self.watching: Sequence[str] = ()  # the #watchlist- channels this signed-in connection follows

    def offer(self, text: str) -> bool:
        """Queue a frame; ``False`` when the client is too far behind (then it is dropped)."""
        if self.overflowed:
            return False
        if self.queue is None:
            self.queue = deque()
        elif len(self.queue) >= self.queue_size:
            self.overflowed = True
            return False
        self.queue.append(text)
        if self.writer is None:
            self.writer = asyncio.get_running_loop().create_task(self.write())
        return True

    async def write(self) -> None:
        try:
            await self.flush()
        except ConnectionClosed:
            pass  # the connection's handler cleans up
        finally:
            self.writer = None

    async def flush(self) -> None:
        """Send the queued frames in order; the outbox is gone once empty."""
        queue = self.queue
        while queue:
            await self.ws.send(queue.popleft())
        if self.queue is queue:
            self.queue = None

    async def stop(self) -> None:
        """Stop the writer (the connection is gone)."""
        if self.writer is not None:
            self.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await self.writer


class RealtimeServer:
    """Pusher-protocol WebSocket server for one app over a backplane."""

    def __init__(
        self,
        app: AppConfig,
        backplane: Backplane,
        *,
        queue_size: int = 500,
        max_buffer_bytes: int = 1_000_000,
        clock: Callable[[], float] = time.monotonic,
        tick: float = 5.0,
        metrics: Callable[[], tuple[bytes, str]] | None = None,
        webhooks: PusherWebhooks | None = None,
        traced: Callable[[str, str, str], AbstractContextManager[object]] | None = None,
    ) -> None:
        """``metrics``, when given, answers ``GET /metrics`` with its body and content type;
        ``webhooks``, when given, is told what happens on the channels (Pusher webhooks);
        ``traced``, when given, is entered around the fan-out of each backplane message (event,
        channel, data): the entrypoints' trace span, which this adapter does not know."""
        self.app = app
        self.webhooks = webhooks
        self._occupancy = None if webhooks is None else ChannelOccupancy(backplane, webhooks, self._occupied_here)
        self._metrics = metrics
        self._traced = traced
        self.backplane = backplane
        self.stats = ServerStats()
        self._queue_size = queue_size
        self._max_buffer_bytes = max_buffer_bytes
        self._clock = clock
        self._tick = tick
        self._subscribers: dict[str, set[_Client]] = defaultdict(set)
        self._clients: set[_Client] = set()
        self._occupancy_dirty = asyncio.Event()
        self._pump_task: asyncio.Task[None] | None = None
        self._ready: list[ChannelMessage] = []  # read from the backplane, not yet fanned out
        self._flushing: asyncio.Handle | None = None

    # -- serving ---------------------------------------------------------------------------
    @asynccontextmanager
    async def running(self, host: str, port: int) -> AsyncIterator[int]:
        """Serve until the block ends; yields the bound port (``port=0`` picks one)."""
        async with serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            max_size=self.app.max_message_bytes * 4,  # larger frames are closed with 1009
            max_queue=64,
            compression=None,
            # No websockets keepalive task per connection: Pusher's own ping / pong (the session's
            # activity timeout, ``_watch``) finds dead peers, one timer for all connections.
            ping_interval=None,
            close_timeout=2,  # shutting down must fit Cloud Run's 10 s grace after SIGTERM
        ) as server:
            jobs = [asyncio.create_task(job()) for job in (self._pump, self._watch, self._report)]
            self._pump_task = jobs[0]
            try:
                yield server.sockets[0].getsockname()[1]
            finally:
                for job in jobs:
                    job.cancel()
                for job in jobs:
                    with contextlib.suppress(asyncio.CancelledError):
                        await job

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path
        if path in ("/health", "/up"):
            health = self.health()
            status = HTTPStatus.OK if health["status"] == "ok" else HTTPStatus.SERVICE_UNAVAILABLE
            body = json.dumps(health, separators=(",", ":")).encode()
            return Response(status, status.phrase, Headers([("Content-Type", "application/json")]), body)
        if path == "/metrics" and self._metrics is not None:
            body, content_type = self._metrics()
            return Response(HTTPStatus.OK, "OK", Headers([("Content-Type", content_type)]), body)
        if not path.startswith("/app/") and "websocket" not in request.headers.get("Upgrade", "").lower():
            return connection.respond(HTTPStatus.NOT_FOUND, "Not found: connect to /app/{key}\n")
        return None  # a WebSocket on another path is accepted, then closed with 4005 (as Pusher does)

    async def _handle(self, ws: ServerConnection) -> None:
        url = urlsplit(ws.request.path if ws.request else "/")
        refused = check_connection(self.app, url.path, dict(parse_qsl(url.query)))
        if refused is not None:
            self.stats.errors[refused.code] += 1
            with contextlib.suppress(ConnectionClosed):
                await ws.send(error(refused.code, refused.reason).text)
                await ws.close(refused.code, refused.reason)
            return
        # The handshake is not needed once open: ~2.5 KiB per connection (docs/realtime.md). The
        # request stays (websockets tells frames from the handshake by it), without its headers.
        if ws.request is not None:
            ws.request.headers.clear()
        ws.response = None
        socket_id = f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}"
        client = _Client(ws, PusherSession(self.app, socket_id, self._clock()), self._queue_size)
        self._clients.add(client)
        self.stats.connections += 1
        try:
            await self._apply(client, client.session.opening())
            async for text in ws:
                self.stats.messages_in += 1
                await self._apply(client, client.session.receive(text, self._clock()))
                del text  # not kept while the connection idles
        except ConnectionClosed:
            pass
        finally:
            self._clients.discard(client)
            await client.stop()
            await self._apply(client, client.session.closed())
            await self._sign_out(client)

    # -- carrying out the protocol's actions ------------------------------------------------
    async def _apply(self, client: _Client, actions: Sequence[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                if action.error is not None:
                    self.stats.errors[action.error] += 1
                self._send(client, action.text)
            elif isinstance(action, Close):
                await self._drain_then_close(client, action.code, action.reason)
            elif isinstance(action, Join):
                await self._join(client, action)
            elif isinstance(action, Leave):
                await self._leave(client, action.channel)
            elif isinstance(action, SignIn):
                await self._sign_in(client, action)
            elif isinstance(action, Broadcast):
                try:
                    await self.backplane.publish(action.channel, action.event, action.data,
                                                 exclude=client.session.socket_id, user_id=action.user_id)  # fmt: skip
                except BackplaneUnavailable:  # the event is dropped, the connection stays
                    self.stats.errors[UNAVAILABLE] += 1
                    self._send(client, error(UNAVAILABLE, "Client event not sent: the backplane is unavailable;"
                                                          " send it again shortly").text)  # fmt: skip
                else:
                    if self.webhooks is not None:
                        self.webhooks.client_event(action.channel, action.event, action.data,
                                                   client.session.socket_id, action.user_id)  # fmt: skip

    def _send(self, client: _Client, text: str) -> None:
        if client.overflowed:
            return  # already being disconnected
        if not client.offer(text):
            self.stats.slow_disconnects += 1
            log.warning("disconnecting a slow client", extra={"fields": {"socket_id": client.session.socket_id}})
            asyncio.get_running_loop().create_task(client.ws.close(4100, "Over capacity: the client fell behind"))

    async def _drain_then_close(self, client: _Client, code: int, reason: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await client.flush()
            await client.ws.close(code, reason)

    async def _join(self, client: _Client, join: Join) -> None:
        channel, session = join.channel, client.session
        members, new = None, False
        if join.member is not None:
            try:
                joined = await self._join_presence(client, join.member, channel)
            except BackplaneUnavailable:
                down = {"type": "Unavailable", "error": "presence is unavailable; subscribe again shortly",
                        "status": 503}  # fmt: skip
                self._refuse(client, channel, down)
                return
            if joined is None:
                return
            members, new = joined
        local = self._subscribers[channel]
        local.add(client)
        if len(local) == 1:
            await self.backplane.listen(channel)
        if self._occupancy is not None and self.webhooks is not None:
            await self._occupancy.sync(channel)  # channel_occupied, then the member that occupied it
            if join.member is not None and new:
                self.webhooks.member_added(channel, join.member.user_id)
        self._occupancy_dirty.set()
        cached = None
        if is_cache_channel(channel):
            with contextlib.suppress(BackplaneUnavailable):  # Redis away: a miss, the client refetches
                cached = await self.backplane.last_message(channel)
            if cached is None and self.webhooks is not None:
                self.webhooks.cache_miss(channel)
        await self._apply(client, session.joined(channel, members, cached))

    async def _join_presence(self, client: _Client, member: Member, channel: str) -> tuple[dict[str, Any], bool] | None:
        """Add the member (announcing a new user); the members and whether the user is new, or
        ``None`` when the channel is full (refused)."""
        session = client.session
        current = await self.backplane.members(channel)
        if member.user_id not in current and len(current) >= self.app.max_presence_members:
            busy = {"type": "LimitReached", "error": "the presence channel is full", "status": 403}
            self._refuse(client, channel, busy)
            return None
        members, new = await self.backplane.join_presence(channel, session.socket_id, member)
        if new:
            info = {"user_id": member.user_id, "user_info": member.user_info}
            await self.backplane.publish(
                channel, "pusher_internal:member_added", json.dumps(info), exclude=session.socket_id
            )
        return members, new

    async def _sign_in(self, client: _Client, signin: SignIn) -> None:
        """Count the user online (announcing it to its watchers if it was not) and make the
        connection a watcher of its watchlist, telling it who of it is online now."""
        watched = [WATCHLIST + w for w in signin.watchlist]
        for channel in watched:  # watch first: a change meanwhile is told twice, never missed
            local = self._subscribers[channel]
            local.add(client)
            if len(local) == 1:
                await self.backplane.listen(channel)
        client.watching = watched
        try:
            _, new = await self.backplane.join_presence(ONLINE + signin.user_id, client.session.socket_id,
                                                        Member(signin.user_id))  # fmt: skip
            if new:
                await self.backplane.publish(WATCHLIST + signin.user_id, "online", "{}")
            online = [w for w in signin.watchlist if await self.backplane.members(ONLINE + w)]
        except BackplaneUnavailable:
            log.warning("could not record a sign-in's presence", extra={"fields": {"user_id": signin.user_id}})
            return
        if online:
            self._send(client, _watchlist_events("online", online))

    async def _sign_out(self, client: _Client) -> None:
        """The connection ended: stop watching; the user is offline once its last one is gone."""
        for channel in client.watching:
            await self._leave(client, channel)
        user_id = client.session.user_id
        if user_id is None:
            return
        try:
            _, gone = await self.backplane.leave_presence(ONLINE + user_id, client.session.socket_id)
            if gone:
                await self.backplane.publish(WATCHLIST + user_id, "offline", "{}")
        except BackplaneUnavailable:
            log.warning("could not record a sign-out", extra={"fields": {"user_id": user_id}})

    def _refuse(self, client: _Client, channel: str, why: dict[str, Any]) -> None:
        """A subscription the server cannot register: the error names its channel."""
        client.session.pending.discard(channel)
        client.session.presence.pop(channel, None)
        self._send(client, frame("pusher:subscription_error", why, channel))

    async def _leave(self, client: _Client, channel: str) -> None:
        local = self._subscribers.get(channel)
        if local is not None and client in local:
            local.discard(client)
            if not local:
                del self._subscribers[channel]
                await self.backplane.unlisten(channel)
            self._occupancy_dirty.set()
        if channel.startswith("presence-"):
            await self._leave_presence(client, channel)
        if self._occupancy is not None:
            await self._occupancy.sync(channel)  # after the member: channel_vacated comes last

    async def _leave_presence(self, client: _Client, channel: str) -> None:
        try:
            member, gone = await self.backplane.leave_presence(channel, client.session.socket_id)
        except BackplaneUnavailable:
            log.warning("could not remove a presence member", extra={"fields": {"channel": channel}})
            return
        if member is not None and gone:
            await self.backplane.publish(channel, "pusher_internal:member_removed",
                                         json.dumps({"user_id": member.user_id}))  # fmt: skip
            if self.webhooks is not None:
                self.webhooks.member_removed(channel, member.user_id)

    def _occupied_here(self, channel: str) -> bool:
        return bool(self._subscribers.get(channel))

    # -- background jobs -------------------------------------------------------------------
    async def _pump(self) -> None:
        """Fan backplane messages out to the local subscribers of their channel; supervised: a
        failure is logged and counted, and the backplane's messages are read again."""
        backoff = 0.05
        while True:
            try:
                async for message in self.backplane.messages():
                    backoff = 0.05
                    if message.resync:
                        self._flush()  # what came before the resubscription goes first
                        await self._reannounce(message.channel)
                    self._ready.append(message)
                    if len(self._ready) >= BATCH:
                        self._flush()
                        await asyncio.sleep(0)  # let the sockets and writers drain between batches
                    elif self._flushing is None:  # once nothing more is ready to read
                        self._flushing = asyncio.get_running_loop().call_soon(self._flush)
                return  # the backplane closed
            except Exception:
                self.stats.pump_failures += 1
                log.exception("the realtime pump failed; reading the backplane again")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)

    async def _reannounce(self, channel: str) -> None:
        """After a resubscription (Redis may have lost its data): this instance's presence members
        of ``channel`` and its occupancy are written again, so member lists and counts are whole."""
        self._occupancy_dirty.set()
        if self._occupancy is not None:
            await self._occupancy.sync(channel, again=True)  # recorded again, silently: it was announced
        for client in list(self._subscribers.get(channel, ())):
            member = client.session.presence.get(channel)
            if member is None:
                continue
            try:
                await self.backplane.join_presence(channel, client.session.socket_id, member)
            except BackplaneUnavailable:
                log.warning("could not re-announce a presence member", extra={"fields": {"channel": channel}})
                return  # the next resubscription tries again

    def _flush(self) -> None:
        """Fan out the messages read since the last flush, in order. Consecutive plain messages of
        one channel go to each socket as one write (their frames joined): under load, messages
        read while the previous ones were being written leave together, one system call per
        socket instead of one per message; an idle server writes each message as it comes."""
        if self._flushing is not None:
            self._flushing.cancel()
            self._flushing = None
        ready, self._ready = self._ready, []
        run: list[ChannelMessage] = []
        try:
            for message in ready:
                plain = message.exclude is None and not (message.resync or message.gap)
                if run and (not plain or message.channel != run[0].channel):
                    self._traced_fan_out(run)
                    run = []
                if plain:
                    run.append(message)
                else:
                    self._traced_fan_out([message])
            if run:
                self._traced_fan_out(run)
        except Exception:
            self.stats.pump_failures += 1
            log.exception("the realtime fan-out failed")

    def _traced_fan_out(self, messages: list[ChannelMessage]) -> None:
        """:meth:`_fan_out`; when tracing is on, each message on its own inside its own span (a
        joined write would make the run's spans one another's children)."""
        if self._traced is None:
            self._fan_out(messages)
            return
        for message in messages:
            with self._traced(message.event, message.channel, message.data):
                self._fan_out([message])

    def _fan_out(self, messages: list[ChannelMessage]) -> None:
        """One message, or a run of plain messages of one channel."""
        message = messages[0]
        clients = self._subscribers.get(message.channel)
        if not clients:
            return
        if message.resync:
            self._resync(message, clients)
            return
        if message.channel.startswith(WATCHLIST):  # a watched user came online or left
            for each in messages:
                notice = _watchlist_events(each.event, [each.channel.removeprefix(WATCHLIST)])
                for client in list(clients):
                    self._send(client, notice)
            return
        if message.channel.startswith(SERVER_TO_USER) and len(messages) > 1:
            for each in messages:  # a terminate among them closes the connections: one at a time
                self._fan_out([each])
            return
        if message.event == TERMINATE and message.channel.startswith(SERVER_TO_USER):
            why = "Unauthorized: the user's connections were terminated"
            for client in list(clients):  # the user's connections on this instance
                self._send(client, error(4009, why).text)
                asyncio.get_running_loop().create_task(self._drain_then_close(client, 4009, why))
            return
        if message.gap:
            self.stats.gaps += 1
            log.warning("messages lost on the backplane",
                        extra={"fields": {"channel": message.channel, "sequence": message.sequence}})  # fmt: skip
            self._resync(message, clients)
        self._broadcast(clients, messages)

    def _broadcast(self, clients: set[_Client], messages: list[ChannelMessage]) -> None:
        """Hand messages of one channel to every subscriber: their frames are built and serialized
        once (a server's frames are unmasked, so the bytes are the same for every socket) and
        written straight to each open socket's transport in one write — no task, await or frame
        building per client. A client with frames still queued gets them behind those, in order;
        a client whose socket buffer has grown past ``max_buffer_bytes`` is not keeping up: it is
        disconnected (4100), as when its queue fills. Nothing here awaits, so ``clients`` cannot
        change under the loop."""
        texts = [frame(m.event, m.data, m.channel, m.user_id) for m in messages]
        data = b"".join(Frame(Opcode.TEXT, text.encode()).serialize(mask=False) for text in texts)
        channel, exclude, limit = messages[0].channel, messages[0].exclude, self._max_buffer_bytes
        delivered = writes = 0
        slow: list[_Client] = []
        for client in clients:
            session = client.session
            if channel not in session.channels or session.socket_id == exclude:
                continue  # still joining, or the sender of a client event
            delivered += 1
            if client.queue is not None or client.overflowed:
                for text in texts:
                    self._send(client, text)  # behind its queued frames, in order
            elif client.protocol.state is OPEN:  # as websockets.broadcast: skip a closing socket
                client.transport.write(data)
                writes += 1
                if client.ws.paused and client.transport.get_write_buffer_size() > limit:
                    slow.append(client)
        self.stats.delivered += delivered * len(messages)
        self.stats.writes += writes
        for client in slow:
            client.overflowed = True
            self.stats.slow_disconnects += 1
            log.warning("disconnecting a slow client", extra={"fields": {"socket_id": client.session.socket_id}})
            asyncio.get_running_loop().create_task(client.ws.close(4100, "Over capacity: the client fell behind"))

    def health(self) -> dict[str, Any]:
        """``ok`` while the pump runs and the backplane's consumer polls; else ``unhealthy``."""
        backplane = self.backplane.state()
        pumping = self._pump_task is None or not self._pump_task.done()
        ok = pumping and bool(backplane.get("healthy", True))
        return {"status": "ok" if ok else "unhealthy", "pump": "running" if pumping else "stopped",
                "pump_failures": self.stats.pump_failures, "backplane": backplane}  # fmt: skip

    def _resync(self, message: ChannelMessage, clients: set[_Client]) -> None:
        """Tell the channel's local subscribers to refetch: its messages may have been lost."""
        self.stats.resyncs += 1
        notice = frame("valorize:resync", {"sequence": message.sequence}, message.channel)
        for client in list(clients):
            self._send(client, notice)

    async def _watch(self) -> None:
        """Ping quiet clients and close those that stopped answering."""
        while True:
            await asyncio.sleep(self._tick)
            now = self._clock()
            for client in list(self._clients):
                actions = client.session.idle(now)
                if actions:
                    await self._apply(client, actions)

    async def _report(self) -> None:
        """Report subscription counts to the backplane when they change (at most every second)."""
        while True:
            await self._occupancy_dirty.wait()
            self._occupancy_dirty.clear()
            try:
                await self.backplane.report_occupancy(self.occupancy())
            except Exception:
                log.exception("could not report occupancy")
                self._occupancy_dirty.set()
            await asyncio.sleep(1.0)

    def occupancy(self) -> dict[str, int]:
        """This instance's local subscriptions per channel."""
        return {c: len(s) for c, s in self._subscribers.items() if not c.startswith(WATCHLIST)}

    def snapshot(self) -> dict[str, Any]:
        """Counters for logs and tests."""
        return {"clients": len(self._clients), "channels": len(self._subscribers), **vars(self.stats)}
