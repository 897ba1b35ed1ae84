"""The backplane between realtime instances: channel messages, presence members, occupancy.

* **Messages**: anyone (the API's broadcaster, the Pusher HTTP API, a client event) publishes to
  a channel; every instance *listening* to that channel receives it. An instance listens only
  while it has local subscribers. Each channel's messages carry increasing sequence numbers, so
  a listener sees when pub/sub lost some (``gap``).
* **Presence**: members of ``presence-`` channels across instances, one entry per socket; a user
  is added when its first socket joins and removed when its last one leaves.
* **Cache channels** (``cache-*`` and their private, presence and encrypted kinds): the last
  message of each is kept for 30 minutes (:meth:`Backplane.last_message`).
* **Occupancy**: each instance reports its subscription counts; :meth:`channels` adds them up
  (the Pusher HTTP API's ``GET /apps/{id}/channels``).

:class:`InMemoryBackplane` serves one process (``valorize dev``); :class:`RedisBackplane` serves
many, with Redis pub/sub. Redis entries of an instance that died expire with its heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import redis.asyncio as redis

from valorize_adapters.pusher.protocol import CACHE_TTL_SECONDS, Member, is_cache_channel
from valorize_adapters.redis.client import ScriptCall

__all__ = ["Backplane", "BackplaneUnavailable", "ChannelMessage", "InMemoryBackplane", "RedisBackplane"]

log = logging.getLogger("valorize.realtime")

#: A consumer that has not polled for this long is stuck or dead (it polls at least every ~2 s).
STALE_AFTER = 15.0


class BackplaneUnavailable(ConnectionError):
    """The backplane cannot publish or answer now (Redis is down); try again shortly."""


@contextlib.asynccontextmanager
async def _redis_answers() -> AsyncIterator[None]:
    """Redis failures as :class:`BackplaneUnavailable`, the one error publishers handle."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError, OSError) as exc:
        raise BackplaneUnavailable(f"the backplane is unavailable: {type(exc).__name__}") from exc


@dataclass(frozen=True, slots=True)
class ChannelMessage:
    """One message on a channel; ``exclude`` is a socket id not to deliver it to (the sender).

    ``resync`` marks no message but a notice: the channel's messages may have been lost (the
    backplane resubscribed after an outage); ``gap`` marks a message after lost ones.
    """

    channel: str
    event: str
    data: str
    exclude: str | None = None
    user_id: str | None = None
    sequence: int = 0
    gap: bool = False
    resync: bool = False


class Backplane(Protocol):
    """What the realtime server and the publishers share."""

    async def publish(
        self, channel: str, event: str, data: str, *, exclude: str | None = None, user_id: str | None = None
    ) -> None:
        """Send a message to every instance listening to ``channel``; :class:`BackplaneUnavailable`
        when it cannot (as :meth:`publish_many`, :meth:`members` and :meth:`channels`)."""
        ...

    async def publish_many(self, channel: str, messages: Sequence[tuple[str, str]]) -> None:
        """Send ``(event, data)`` messages to ``channel``, in order, at once (one round trip)."""
        ...

    async def listen(self, channel: str) -> None:
        """Start receiving ``channel``'s messages in :meth:`messages`."""
        ...

    async def last_message(self, channel: str) -> tuple[str, str] | None:
        """A cache channel's last ``(event, data)`` of the last 30 minutes, if any."""
        ...

    async def unlisten(self, channel: str) -> None:
        """Stop receiving ``channel``'s messages."""
        ...

    def messages(self) -> AsyncIterator[ChannelMessage]:
        """Messages of the channels listened to, until :meth:`close`."""
        ...

    async def join_presence(self, channel: str, socket_id: str, member: Member) -> tuple[dict[str, Any], bool]:
        """Add the socket's member; returns the members (user id → info) and whether the user is new."""
        ...

    async def leave_presence(self, channel: str, socket_id: str) -> tuple[Member | None, bool]:
        """Remove the socket's member; returns it and whether its user has no socket left."""
        ...

    async def members(self, channel: str) -> dict[str, Any]:
        """A presence channel's members (user id → info), over every live instance."""
        ...

    async def report_occupancy(self, counts: dict[str, int]) -> None:
        """This instance's subscriptions per channel (replacing what it reported before)."""
        ...

    async def channels(self) -> dict[str, int]:
        """Subscriptions per occupied channel, over every live instance."""
        ...

    async def occupy(self, channel: str) -> bool:
        """This instance has subscribers of ``channel`` now; ``True`` when no live instance had
        (the channel became occupied cluster-wide: the one ``channel_occupied`` webhook)."""
        ...

    async def vacate(self, channel: str) -> bool:
        """This instance has no subscriber of ``channel`` left; ``True`` when no live instance has
        one now (the channel became vacant cluster-wide: the one ``channel_vacated`` webhook)."""
        ...

    def state(self) -> dict[str, Any]:
        """The consumer's health: ``healthy`` (it is polling), ``failures`` and ``reconnects``."""
        ...

    async def close(self) -> None:
        """Stop; ends :meth:`messages`."""
        ...


def _members(entries: list[Member]) -> dict[str, Any]:
    return {m.user_id: m.user_info for m in entries}


class InMemoryBackplane:
    """One process: in-process queues and dicts. A slow reader loses the oldest messages."""

    def __init__(self, queue_size: int = 10_000) -> None:
        self._listening: set[str] = set()
        self._queue: asyncio.Queue[ChannelMessage | None] = asyncio.Queue(queue_size)
        self._sequences: dict[str, int] = defaultdict(int)
        self._presence: dict[str, dict[str, Member]] = defaultdict(dict)
        self._counts: dict[str, int] = {}
        self._occupied: set[str] = set()
        self._cached: dict[str, tuple[float, str, str]] = {}  # cache channel → (expires at, event, data)
        self.dropped = 0

    async def publish(
        self, channel: str, event: str, data: str, *, exclude: str | None = None, user_id: str | None = None
    ) -> None:
        self._sequences[channel] += 1
        if is_cache_channel(channel):
            self._cached[channel] = (time.monotonic() + CACHE_TTL_SECONDS, event, data)
        if channel not in self._listening:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(ChannelMessage(channel, event, data, exclude, user_id, self._sequences[channel]))

    async def publish_many(self, channel: str, messages: Sequence[tuple[str, str]]) -> None:
        for event, data in messages:
            await self.publish(channel, event, data)

    async def listen(self, channel: str) -> None:
        self._listening.add(channel)

    async def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)

    async def last_message(self, channel: str) -> tuple[str, str] | None:
        kept = self._cached.get(channel)
        if kept is None or kept[0] < time.monotonic():
            self._cached.pop(channel, None)
            return None
        return kept[1], kept[2]

    async def messages(self) -> AsyncIterator[ChannelMessage]:
        last: dict[str, int] = {}
        while (message := await self._queue.get()) is not None:
            previous = last.get(message.channel)
            last[message.channel] = message.sequence
            gap = previous is not None and message.sequence != previous + 1
            yield ChannelMessage(message.channel, message.event, message.data, message.exclude, message.user_id,
                                 message.sequence, gap)  # fmt: skip

    async def join_presence(self, channel: str, socket_id: str, member: Member) -> tuple[dict[str, Any], bool]:
        sockets = self._presence[channel]
        new = all(m.user_id != member.user_id for m in sockets.values())
        sockets[socket_id] = member
        return _members(list(sockets.values())), new

    async def leave_presence(self, channel: str, socket_id: str) -> tuple[Member | None, bool]:
        sockets = self._presence.get(channel, {})
        member = sockets.pop(socket_id, None)
        if not sockets:
            self._presence.pop(channel, None)
        if member is None:
            return None, False
        return member, all(m.user_id != member.user_id for m in sockets.values())

    async def members(self, channel: str) -> dict[str, Any]:
        return _members(list(self._presence.get(channel, {}).values()))

    async def report_occupancy(self, counts: dict[str, int]) -> None:
        self._counts = {c: n for c, n in counts.items() if n > 0}

    async def channels(self) -> dict[str, int]:
        return dict(self._counts)

    async def occupy(self, channel: str) -> bool:
        new = channel not in self._occupied
        self._occupied.add(channel)
        return new

    async def vacate(self, channel: str) -> bool:
        had = channel in self._occupied
        self._occupied.discard(channel)
        return had

    def state(self) -> dict[str, Any]:
        return {"healthy": True, "failures": 0, "reconnects": 0, "dropped": self.dropped}

    async def close(self) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self._queue.put_nowait(None)


# KEYS: the sequence, the pub/sub channel, the cache key; ARGV[1]: the cache's TTL in seconds
# (0: not a cache channel), then the bodies.
_PUBLISH = """
local seq = 0
for i = 2, #ARGV do
  seq = redis.call('INCR', KEYS[1])
  redis.call('PUBLISH', KEYS[2], '{"seq":' .. seq .. ',"m":' .. ARGV[i] .. '}')
end
redis.call('EXPIRE', KEYS[1], 86400)
if tonumber(ARGV[1]) > 0 and #ARGV > 1 then
  redis.call('SET', KEYS[3], ARGV[#ARGV], 'EX', ARGV[1])
end
return seq
"""


# KEYS[1]: the channel's occupants (a hash: instance → 1); ARGV: this instance, the liveness
# keys' prefix, 1 to occupy or 0 to vacate. Occupants whose liveness key expired (a dead
# instance) are dropped first. Returns 1 when the channel went from no live occupant to this
# one (occupy) or from this one to none (vacate): the decision is atomic, so of two instances
# occupying a channel at once exactly one sees 1.
_OCCUPY = """
for _, other in ipairs(redis.call('HKEYS', KEYS[1])) do
  if other ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. other) == 0 then
    redis.call('HDEL', KEYS[1], other)
  end
end
local changed = 0
if ARGV[3] == '1' then
  if redis.call('HSET', KEYS[1], ARGV[1], 1) == 1 and redis.call('HLEN', KEYS[1]) == 1 then changed = 1 end
  redis.call('EXPIRE', KEYS[1], 86400)
elseif redis.call('HDEL', KEYS[1], ARGV[1]) == 1 and redis.call('HLEN', KEYS[1]) == 0 then
  changed = 1
end
return changed
"""


# Presence, atomically (two sockets of one user joining at once on two instances must not both
# count as the user's first). Like the occupancy script, it reads the instances' liveness keys,
# which it is not given as KEYS: one Redis (or a primary with replicas), not a Redis Cluster.
# KEYS[1]: the channel's presence hash (socket → entry JSON with the user ``u`` and instance
# ``i``); ARGV[1]: the liveness keys' prefix, ARGV[2]: the socket, then for a join ARGV[3]: its
# entry, ARGV[4]: its user. Entries of dead instances are dropped first.
_LIVE_ENTRIES = """
local alive = {}
local live = {}
local raw = redis.call('HGETALL', KEYS[1])
for n = 1, #raw, 2 do
  local entry = cjson.decode(raw[n + 1])
  local instance = tostring(entry['i'])
  if alive[instance] == nil then alive[instance] = redis.call('EXISTS', ARGV[1] .. instance) == 1 end
  if alive[instance] then
    live[#live + 1] = {raw[n], raw[n + 1], tostring(entry['u'])}
  else
    redis.call('HDEL', KEYS[1], raw[n])
  end
end
"""
# Returns 1 when the user had no other live socket, then every live entry (the new one too).
_JOIN = (
    _LIVE_ENTRIES
    + """
local new = 1
local entries = {}
for _, e in ipairs(live) do
  if e[1] ~= ARGV[2] then
    if e[3] == ARGV[4] then new = 0 end
    entries[#entries + 1] = e[2]
  end
end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
entries[#entries + 1] = ARGV[3]
return {new, entries}
"""
)
# Returns the socket's entry (false when it had none) and 1 when its user has no live socket left.
_LEAVE = (
    """
local mine = redis.call('HGET', KEYS[1], ARGV[2])
if not mine then return {false, 0} end
redis.call('HDEL', KEYS[1], ARGV[2])
"""
    + _LIVE_ENTRIES
    + """
local user = tostring(cjson.decode(mine)['u'])
for _, e in ipairs(live) do
  if e[3] == user then return {mine, 0} end
end
return {mine, 1}
"""
)


def _body(channel: str, event: str, data: str, exclude: str | None = None, user_id: str | None = None) -> str:
    """A message as the script publishes it (wrapped with its sequence number)."""
    return json.dumps({"c": channel, "e": event, "d": data, "x": exclude, "u": user_id}, separators=(",", ":"))


class RedisBackplane:
    """Many instances over one Redis: pub/sub per channel, presence and occupancy in hashes.

    Each instance keeps ``{prefix}:rt:alive:{instance}`` alive (a heartbeat every ``ttl``/3
    seconds); presence entries and occupancy reports of an instance whose key expired are
    ignored and cleaned up, so a crashed instance's members leave within ``ttl`` seconds.
    """

    def __init__(self, client: redis.Redis, *, prefix: str = "vz", ttl: int = 30, owns_client: bool = False) -> None:
        self._r = client
        self._owns_client = owns_client
        self._p = f"{prefix}:rt"
        self._ttl = ttl
        self.instance = uuid.uuid4().hex
        self._script = client.register_script(_PUBLISH)
        self._occupants = client.register_script(_OCCUPY)
        self._join = client.register_script(_JOIN)
        self._leave = client.register_script(_LEAVE)
        self._pubsub: Any = None
        self._listening: set[str] = set()
        self._closed = False
        self._heartbeat: asyncio.Task[None] | None = None
        self.reconnects = 0
        self.failures = 0
        self._polled_at = time.monotonic()
        self._unsubscribed = False  # a rebuild could not subscribe yet

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "vz", ttl: int = 30) -> RedisBackplane:
        """A backplane with its own client (closed with it); pub/sub reads may wait 5 s."""
        from valorize_adapters.redis.client import redis_client

        return cls(redis_client(url, timeout=5.0), prefix=prefix, ttl=ttl, owns_client=True)

    def _ch(self, channel: str) -> str:
        return f"{self._p}:ch:{channel}"

    # -- messages --------------------------------------------------------------------------
    async def publish(
        self, channel: str, event: str, data: str, *, exclude: str | None = None, user_id: str | None = None
    ) -> None:
        await self._send(channel, [_body(channel, event, data, exclude, user_id)])

    async def publish_many(self, channel: str, messages: Sequence[tuple[str, str]]) -> None:
        if messages:
            await self._send(channel, [_body(channel, event, data) for event, data in messages])

    async def _send(self, channel: str, bodies: list[str]) -> None:
        """The script numbers and publishes the bodies in order, in one round trip."""
        call = self._send_call(channel, bodies)
        async with _redis_answers():
            await self._script(keys=call.keys, args=call.args)

    def publish_call(self, channel: str, messages: Sequence[tuple[str, str]]) -> ScriptCall:
        """What :meth:`publish_many` sends, as a script call to send with others in one round trip
        (:func:`~valorize_adapters.redis.client.run_scripts`, on a client of the same Redis)."""
        return self._send_call(channel, [_body(channel, event, data) for event, data in messages])

    def _send_call(self, channel: str, bodies: list[str]) -> ScriptCall:
        ttl = CACHE_TTL_SECONDS if is_cache_channel(channel) else 0
        keys = [f"{self._p}:seq:{channel}", self._ch(channel), f"{self._p}:cache:{channel}"]
        return ScriptCall(self._script, keys, [ttl, *bodies])

    async def last_message(self, channel: str) -> tuple[str, str] | None:
        async with _redis_answers():
            raw = await self._r.get(f"{self._p}:cache:{channel}")
        if raw is None:
            return None
        try:
            body = json.loads(raw)
            return str(body["e"]), str(body["d"])
        except (ValueError, KeyError, TypeError):
            return None

    async def listen(self, channel: str) -> None:
        """Subscribe; while Redis is down the channel is subscribed (and resynced) once it is back."""
        if self._pubsub is None:
            self._pubsub = self._r.pubsub(ignore_subscribe_messages=True)
        self._listening.add(channel)
        try:
            await self._pubsub.subscribe(self._ch(channel))
        except (redis.ConnectionError, redis.TimeoutError, OSError):
            self._unsubscribed = True  # the consumer rebuilds the subscription when Redis answers

    async def unlisten(self, channel: str) -> None:
        self._listening.discard(channel)  # its messages are ignored from now on
        if self._pubsub is not None:
            with contextlib.suppress(redis.ConnectionError, redis.TimeoutError, OSError):
                await self._pubsub.unsubscribe(self._ch(channel))

    async def messages(self) -> AsyncIterator[ChannelMessage]:
        """Supervised: a lost connection is retried with backoff, any other failure is logged,
        counted and the subscription rebuilt; after either, every channel listened to gets a
        ``resync`` notice as soon as the subscription is back (messages may have been lost)."""
        last: dict[str, int] = {}
        backoff = 0.05
        interrupted = False
        while not self._closed:
            self._polled_at = time.monotonic()
            if self._pubsub is None or not self._listening:
                await asyncio.sleep(0.05)
                continue
            try:
                if self._unsubscribed:
                    interrupted = True  # messages may have been lost meanwhile: resync once rebuilt
                    await self._rebuild()
                raw = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.05
            except (redis.ConnectionError, redis.TimeoutError, OSError):
                if self._closed:
                    return
                self.reconnects += 1  # redis-py resubscribes on reconnect; resync notices follow
                interrupted = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            except Exception:
                if self._closed:
                    return
                self.failures += 1
                log.exception("the backplane consumer failed; rebuilding its subscription")
                interrupted = True
                self._unsubscribed = True  # rebuilt at the next poll
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            if interrupted:
                interrupted = False
                with contextlib.suppress(redis.RedisError, OSError):  # Redis may have lost this instance's
                    await self._beat()  # liveness: without it its re-announced members count as dead
                for channel in sorted(self._listening):
                    last.pop(channel, None)  # the notice covers the gap the next message would show
                    yield ChannelMessage(channel, "valorize:resync", "{}", resync=True)
            if raw is None or raw.get("type") != "message":
                continue
            try:
                body = json.loads(raw["data"])
                m, seq = body["m"], int(body["seq"])
                message = ChannelMessage(m["c"], m["e"], m["d"], m["x"], m["u"], seq)
            except (ValueError, KeyError, TypeError):
                self.failures += 1
                log.warning("an undecodable backplane message was dropped", extra={"fields": {"raw": repr(raw)[:200]}})
                continue
            if message.channel not in self._listening:
                continue
            previous = last.get(message.channel)
            last[message.channel] = seq
            if previous is not None and seq != previous + 1:
                message = ChannelMessage(m["c"], m["e"], m["d"], m["x"], m["u"], seq, gap=True)
            yield message

    async def _rebuild(self) -> None:
        """A fresh pub/sub connection subscribed to every channel listened to."""
        old, self._pubsub = self._pubsub, self._r.pubsub(ignore_subscribe_messages=True)
        if old is not None:
            with contextlib.suppress(Exception):
                await old.aclose()
        self._unsubscribed = True  # until the subscribe below succeeds (else retried at the next poll)
        if self._listening:
            await self._pubsub.subscribe(*(self._ch(c) for c in self._listening))
        self._unsubscribed = False

    def state(self) -> dict[str, Any]:
        stale = time.monotonic() - self._polled_at > STALE_AFTER
        return {"healthy": not stale, "failures": self.failures, "reconnects": self.reconnects}

    # -- liveness --------------------------------------------------------------------------
    async def start(self) -> None:
        """Announce this instance and keep it alive until :meth:`close`."""
        await self._beat()

        async def beating() -> None:
            while not self._closed:
                await asyncio.sleep(self._ttl / 3)
                with contextlib.suppress(redis.RedisError, OSError):
                    await self._beat()

        self._heartbeat = asyncio.create_task(beating())

    async def _beat(self) -> None:
        async with self._r.pipeline(transaction=False) as pipe:
            pipe.set(f"{self._p}:alive:{self.instance}", "1", ex=self._ttl)
            pipe.expire(f"{self._p}:occupancy:{self.instance}", self._ttl)
            await pipe.execute()

    async def _alive(self, instances: set[str]) -> set[str]:
        if not instances:
            return set()
        ordered = sorted(instances)
        flags = await self._r.mget([f"{self._p}:alive:{i}" for i in ordered])
        return {i for i, flag in zip(ordered, flags, strict=True) if flag is not None}

    # -- presence --------------------------------------------------------------------------
    async def _live_entries(self, channel: str) -> dict[str, Member]:
        key = f"{self._p}:presence:{channel}"
        raw = await self._r.hgetall(key)
        entries = {
            (s.decode() if isinstance(s, bytes) else s): json.loads(v) for s, v in raw.items()
        }  # fmt: skip
        alive = await self._alive({e["i"] for e in entries.values()})
        dead = [s for s, e in entries.items() if e["i"] not in alive]
        if dead:
            await self._r.hdel(key, *dead)
        return {s: Member(e["u"], e["info"]) for s, e in entries.items() if e["i"] in alive}

    async def join_presence(self, channel: str, socket_id: str, member: Member) -> tuple[dict[str, Any], bool]:
        """One script: whether the user is new is decided atomically, across instances."""
        entry = json.dumps({"u": member.user_id, "info": member.user_info, "i": self.instance}, separators=(",", ":"))
        async with _redis_answers():
            new, entries = await self._join(keys=[f"{self._p}:presence:{channel}"],
                                            args=[f"{self._p}:alive:", socket_id, entry, member.user_id])  # fmt: skip
        decoded = [json.loads(e) for e in entries]
        return _members([Member(e["u"], e["info"]) for e in decoded]), bool(new)

    async def leave_presence(self, channel: str, socket_id: str) -> tuple[Member | None, bool]:
        """One script: whether the user's last socket left is decided atomically, across instances."""
        async with _redis_answers():
            raw, gone = await self._leave(keys=[f"{self._p}:presence:{channel}"],
                                          args=[f"{self._p}:alive:", socket_id])  # fmt: skip
        if not raw:
            return None, False
        entry = json.loads(raw)
        return Member(entry["u"], entry["info"]), bool(gone)

    async def members(self, channel: str) -> dict[str, Any]:
        async with _redis_answers():
            return _members(list((await self._live_entries(channel)).values()))

    # -- occupancy -------------------------------------------------------------------------
    async def report_occupancy(self, counts: dict[str, int]) -> None:
        key = f"{self._p}:occupancy:{self.instance}"
        async with self._r.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            occupied: dict[Any, Any] = {c: n for c, n in counts.items() if n > 0}
            if occupied:
                pipe.hset(key, mapping=occupied)
                pipe.expire(key, self._ttl)
            await pipe.execute()

    async def channels(self) -> dict[str, int]:
        async with _redis_answers():
            return await self._channels()

    async def _channels(self) -> dict[str, int]:
        prefix = f"{self._p}:occupancy:"
        reports = [k.decode() if isinstance(k, bytes) else k async for k in self._r.scan_iter(match=f"{prefix}*")]
        alive = await self._alive({k.removeprefix(prefix) for k in reports})
        totals: dict[str, int] = defaultdict(int)
        for key in reports:
            if key.removeprefix(prefix) not in alive:
                continue
            for channel, n in (await self._r.hgetall(key)).items():
                totals[channel.decode() if isinstance(channel, bytes) else channel] += int(n)
        return dict(totals)

    async def occupy(self, channel: str) -> bool:
        return await self._occupancy_change(channel, occupy=True)

    async def vacate(self, channel: str) -> bool:
        return await self._occupancy_change(channel, occupy=False)

    async def _occupancy_change(self, channel: str, *, occupy: bool) -> bool:
        async with _redis_answers():
            changed = await self._occupants(keys=[f"{self._p}:occupants:{channel}"],
                                            args=[self.instance, f"{self._p}:alive:", 1 if occupy else 0])  # fmt: skip
        return bool(changed)

    async def close(self) -> None:
        self._closed = True
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        with contextlib.suppress(redis.RedisError, OSError):
            await self._r.delete(f"{self._p}:alive:{self.instance}", f"{self._p}:occupancy:{self.instance}")
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._owns_client:
            await self._r.aclose()
