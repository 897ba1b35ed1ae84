"""Port: remembered responses of requests retried with the same Idempotency-Key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from uuid import UUID

__all__ = ["Claimed", "IdempotencyStore", "InProgress", "Mismatch", "Replay"]


@dataclass(frozen=True, slots=True)
class Claimed:
    """The key is new (or expired): this request runs, then completes or releases it."""


@dataclass(frozen=True, slots=True)
class InProgress:
    """The same request with this key is still running elsewhere."""


@dataclass(frozen=True, slots=True)
class Mismatch:
    """The key was used for a different request."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The first response to this request, to send again."""

    status: int
    body: bytes


class IdempotencyStore(Protocol):
    """Per-tenant keys with Stripe's semantics; keys expire after ``ttl``.

    A claim left in progress (the process died mid-request) can be taken again after
    ``lock`` has passed, so a crash never blocks a key for its whole lifetime.
    """

    async def claim(
        self, tenant_id: UUID, key: str, request_hash: str, now: datetime, ttl: timedelta, lock: timedelta
    ) -> Claimed | InProgress | Mismatch | Replay:
        """Claim ``key`` for a request, or say why not."""
        ...

    async def complete(self, tenant_id: UUID, key: str, status: int, body: bytes) -> None:
        """Store the response of a claimed request."""
        ...

    async def release(self, tenant_id: UUID, key: str) -> None:
        """Forget a claim whose request failed without a response worth replaying."""
        ...
