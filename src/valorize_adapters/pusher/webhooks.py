"""Pusher Channels webhooks: what happened on the channels, batched, signed, handed to the task queue.

As Pusher sends them (the HTTP API reference, "Webhooks"): a POST with the JSON body
``{"time_ms": <unix ms>, "events": [{"name": ..., "channel": ..., ...}, ...]}``, the headers
``X-Pusher-Key`` (the app key) and ``X-Pusher-Signature`` (HMAC-SHA256, hex, of the body with
the app secret), content type ``application/json``. The events:

* ``channel_occupied`` / ``channel_vacated`` ``{name, channel}``: the channel's first
  subscriber appeared / its last one left, **cluster-wide** (the backplane decides atomically,
  so of several instances exactly one reports it);
* ``member_added`` / ``member_removed`` ``{name, channel, user_id}``: a presence channel's user
  joined with its first socket / left with its last one, on any instance;
* ``client_event`` ``{name, channel, event, data, socket_id[, user_id]}``: a client event a
  client sent (``user_id`` on presence channels);
* ``cache_miss`` ``{name, channel}``: a subscriber of a cache channel found no cached event.

:class:`PusherWebhooks` collects events for ``window`` seconds (Pusher batches events of a short
window into one call), at most ``max_events`` a batch, then makes one signed call per URL and
gives each to ``enqueue`` as a ``deliver_operator_webhook`` task: the worker sends it, the queue
retries it (``valorize_core.use_cases.actions.operator_webhooks``). Only the kinds the operator
chose are collected. Internal channels (``#server-to-user-``, the watchlists) never appear.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from valorize_adapters.pusher.backplane import Backplane, BackplaneUnavailable
from valorize_core.ports.task_queue import Task
from valorize_core.use_cases.actions.operator_webhooks import OPERATOR_TENANT

__all__ = ["WEBHOOK_KINDS", "ChannelOccupancy", "PusherWebhooks", "parse_kinds", "signature"]

log = logging.getLogger("valorize.realtime")

WEBHOOK_KINDS = frozenset({
    "channel_occupied", "channel_vacated", "member_added", "member_removed", "client_event", "cache_miss",
})  # fmt: skip

TASK_NAME = "deliver_operator_webhook"

Enqueue = Callable[[Task], Awaitable[None]]


def parse_kinds(text: str) -> frozenset[str]:
    """``channel_occupied,member_added`` (or empty, or ``*``: every kind) as a set of kinds;
    ``ValueError`` naming an unknown one."""
    names = {n.strip() for n in text.split(",") if n.strip()}
    if not names or names == {"*"}:
        return WEBHOOK_KINDS
    unknown = sorted(names - WEBHOOK_KINDS)
    if unknown:
        known = ", ".join(sorted(WEBHOOK_KINDS))
        raise ValueError(f"unknown Pusher webhook events: {', '.join(unknown)}; known: {known}")
    return frozenset(names)


def signature(secret: str, body: bytes) -> str:
    """``X-Pusher-Signature``: HMAC-SHA256 of the body with the app secret, hex."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _public(channel: str) -> bool:
    """A channel clients name (not the server's internal ones, which start with ``#``)."""
    return not channel.startswith("#")


class PusherWebhooks:
    """Collects the webhook events of one realtime instance and enqueues them, batched and signed."""

    def __init__(
        self,
        key: str,
        secret: str,
        urls: Sequence[str],
        enqueue: Enqueue,
        *,
        kinds: Iterable[str] = WEBHOOK_KINDS,
        window: float = 1.0,
        max_events: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key, self._secret, self._urls = key, secret, tuple(urls)
        self._enqueue = enqueue
        self.kinds = frozenset(kinds)
        self._window, self._max_events, self._clock = window, max_events, clock
        self._pending: list[dict[str, Any]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()
        self.enqueued = 0  # batches handed to the queue (one task per URL)
        self.failures = 0  # batches the queue refused (logged; their events are lost)

    # -- what happened -----------------------------------------------------------------------
    def channel_occupied(self, channel: str) -> None:
        self._add({"name": "channel_occupied", "channel": channel})

    def channel_vacated(self, channel: str) -> None:
        self._add({"name": "channel_vacated", "channel": channel})

    def member_added(self, channel: str, user_id: str) -> None:
        self._add({"name": "member_added", "channel": channel, "user_id": user_id})

    def member_removed(self, channel: str, user_id: str) -> None:
        self._add({"name": "member_removed", "channel": channel, "user_id": user_id})

    def client_event(self, channel: str, event: str, data: str, socket_id: str, user_id: str | None) -> None:
        record = {"name": "client_event", "channel": channel, "event": event, "data": data, "socket_id": socket_id}
        if user_id is not None:
            record["user_id"] = user_id
        self._add(record)

    def cache_miss(self, channel: str) -> None:
        self._add({"name": "cache_miss", "channel": channel})

    def _add(self, event: dict[str, Any]) -> None:
        if event["name"] not in self.kinds or not _public(event["channel"]) or not self._urls:
            return
        self._pending.append(event)
        if len(self._pending) >= self._max_events:
            self._flush_soon()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._window, self._flush_soon)

    # -- batches -----------------------------------------------------------------------------
    def _flush_soon(self) -> None:
        job = asyncio.get_running_loop().create_task(self.flush())
        self._flushing.add(job)
        job.add_done_callback(self._flushing.discard)

    def calls(self, events: list[dict[str, Any]]) -> list[Task]:
        """One task per URL for a batch: the body as Pusher sends it, signed."""
        body = json.dumps({"time_ms": int(self._clock() * 1000), "events": events}, separators=(",", ":"))
        headers = {"X-Pusher-Key": self._key, "X-Pusher-Signature": signature(self._secret, body.encode())}
        return [
            Task(uuid.uuid4(), TASK_NAME, OPERATOR_TENANT, {"url": url, "body": body, "headers": headers})
            for url in self._urls
        ]

    async def flush(self) -> None:
        """Enqueue what was collected (now, without waiting for the window to end)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._pending:
            events, self._pending = self._pending[: self._max_events], self._pending[self._max_events :]
            for task in self.calls(events):
                try:
                    await self._enqueue(task)
                    self.enqueued += 1
                except Exception:  # the queue is down: the batch is lost, the server goes on
                    self.failures += 1
                    log.exception("could not enqueue a Pusher webhook", extra={"fields": {"events": len(events)}})

    async def close(self) -> None:
        """Enqueue what is pending and wait for batches being enqueued."""
        await self.flush()
        if self._flushing:
            with contextlib.suppress(Exception):
                await asyncio.gather(*self._flushing)


class ChannelOccupancy:
    """This instance's share of the cluster-wide occupancy of channels, for the webhooks.

    :meth:`sync` brings the backplane in line with whether this instance has subscribers of a
    channel *now* (``occupied_here``), one change at a time per channel: a subscriber arriving
    while the last one's departure is being recorded waits for it, then records the channel
    occupied again — never a ``channel_vacated`` left standing while someone is subscribed.
    """

    def __init__(self, backplane: Backplane, webhooks: PusherWebhooks, occupied_here: Callable[[str], bool]) -> None:
        self._backplane, self._webhooks, self._occupied_here = backplane, webhooks, occupied_here
        self._recorded: set[str] = set()  # channels this instance is recorded as occupying
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}  # channel → (lock, holders and waiters)

    async def sync(self, channel: str, *, again: bool = False) -> None:
        """Record the change, if any, reporting it when it was the cluster's; ``again`` records the
        channel anew without a report (the backplane may have lost it: Redis restarted)."""
        if not _public(channel):
            return
        lock, users = self._locks.get(channel) or (asyncio.Lock(), 0)
        self._locks[channel] = (lock, users + 1)
        try:
            async with lock:
                await self._change(channel, again=again)
        finally:
            lock, users = self._locks[channel]
            if users == 1:
                del self._locks[channel]
            else:
                self._locks[channel] = (lock, users - 1)

    async def _change(self, channel: str, *, again: bool) -> None:
        here = self._occupied_here(channel)
        try:
            if here and (again or channel not in self._recorded):
                first = await self._backplane.occupy(channel)
                self._recorded.add(channel)
                if first and not again:
                    self._webhooks.channel_occupied(channel)
            elif not here and channel in self._recorded:
                self._recorded.discard(channel)
                if await self._backplane.vacate(channel):
                    self._webhooks.channel_vacated(channel)
        except BackplaneUnavailable:
            log.warning("could not record a channel's occupancy", extra={"fields": {"channel": channel}})
