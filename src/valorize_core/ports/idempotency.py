"""Port: remembered responses of requests retried with the same Idempotency-Key.

A key has three states: ``in_progress`` (claimed: its request runs), ``applied`` (the request's
write committed — marked by that very commit — and its answer is not stored yet) and
``completed`` (the answer stored, replayed to a retry). A key's write is applied at most once,
even when its answer is lost: an ``applied`` key is never released nor retaken before it
expires.

Claims are owned: a claim is identified by the instant it was taken (``Claimed.claimed_at``;
a key is retaken only after that claim's lock lapsed or the key expired, so a later claim of the
same key has a later instant). A request's write marks only its own claim — and fails with
:class:`ClaimRetaken` when that claim is gone (retaken by a retry while the request outlived its
lock), so it rolls back instead of landing beside the retry's; ``complete`` and ``release`` act
only on their own claim.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

from valorize_core.model.errors import Conflict

__all__ = [
    "Applied",
    "ClaimRetaken",
    "Claimed",
    "IdempotencyStore",
    "InProgress",
    "Mismatch",
    "Replay",
    "applying_key",
    "key_to_mark",
]


class ClaimRetaken(Conflict):
    """The request's claim of its Idempotency-Key is gone: it outlived its lock and a retry
    retook the key. Its write is refused (rolled back): the retry's is the one that counts."""

    code = "idempotency_key_retaken"

    def __init__(
        self,
        message: str = "this request outlived its Idempotency-Key's lock and a retry retook the key:"
        " nothing was written (replay the key for the retry's answer)",
    ) -> None:
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is new (or expired): this request runs, then completes or releases it. The
    claim is the one taken at ``claimed_at``: the request's writes, ``complete`` and ``release``
    name it."""

    claimed_at: datetime


@dataclass(frozen=True, slots=True)
class InProgress:
    """The same request with this key is still running elsewhere (its write may have committed:
    its answer is on its way)."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used for a different request."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The first response to this request, to send again."""

    status: int
    body: bytes


@dataclass(frozen=True, slots=True)
class Applied:
    """The request with this key was applied, and its process ended before storing its answer
    (it died after the commit): the answer is lost, the request must not run again."""


class IdempotencyStore(Protocol):
    """Per-tenant keys with Stripe's semantics; keys expire after ``ttl``.

    A claim left in progress (the process died mid-request) can be taken again after
    ``lock`` has passed, so a crash never blocks a key for its whole lifetime. A claim whose
    write was applied (a unit of work of the tenant committed while the request held the key:
    :func:`applying_key`) is never taken again before it expires.
    """

    async def claim(
        self, tenant_id: UUID, key: str, request_hash: str, now: datetime, ttl: timedelta, lock: timedelta
    ) -> Claimed | InProgress | Mismatch | Replay | Applied:
        """Claim ``key`` for a request, or say why not: an applied key whose lock has not
        lapsed is :class:`InProgress` (its request may still be storing the answer), after
        that :class:`Applied`."""
        ...

    async def complete(self, tenant_id: UUID, key: str, claimed_at: datetime, status: int, body: bytes) -> None:
        """Store the response of the request that claimed ``key`` at ``claimed_at`` (in progress
        or applied); nothing when that claim is gone."""
        ...

    async def release(self, tenant_id: UUID, key: str, claimed_at: datetime, applied: Replay | None = None) -> None:
        """Forget the claim taken at ``claimed_at`` (nothing when it is gone) whose request failed
        without a response worth replaying, unless its write was applied: then the key stays,
        with ``applied`` as its answer when given (what a retry gets instead of running the
        request again)."""
        ...


@dataclass(slots=True)
class _HeldKey:
    tenant_id: UUID
    key: str
    claimed_at: datetime
    live: bool = True


_HELD: ContextVar[_HeldKey | None] = ContextVar("valorize_idempotency_key", default=None)


@contextmanager
def applying_key(tenant_id: UUID, key: str, claimed_at: datetime) -> Iterator[None]:
    """While the block runs (a request holding ``key`` by its claim taken at ``claimed_at``),
    every writing unit of work of ``tenant_id`` that commits marks that claim applied in its own
    commit — or fails with :class:`ClaimRetaken`, rolled back, when the claim is gone. Tasks started in the
    block inherit the key for as long as the block lasts, not after it."""
    held = _HeldKey(tenant_id, key, claimed_at)
    token = _HELD.set(held)
    try:
        yield
    finally:
        held.live = False
        _HELD.reset(token)


def key_to_mark(tenant_id: UUID) -> tuple[str, datetime] | None:
    """The Idempotency-Key, and the instant of the claim held, that a writing unit of
    ``tenant_id`` marks applied when it commits, if any."""
    held = _HELD.get()
    if held is None or not held.live or held.tenant_id != tenant_id:
        return None
    return held.key, held.claimed_at
