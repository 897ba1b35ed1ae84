"""Port: background tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

__all__ = ["Task", "TaskQueue"]


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of background work; ``id`` makes delivery idempotent (one effect per id).

    ``correlation_id`` is the request id of the HTTP call that caused it (it travels with the
    task into the worker's logs and the task's own events).
    """

    id: UUID
    name: str
    tenant_id: UUID
    payload: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    correlation_id: str | None = None


class TaskQueue(Protocol):
    """Durable, at-least-once task delivery. Enqueuing the same task id twice is harmless."""

    async def enqueue(self, task: Task) -> None:
        """Schedule a task."""
        ...
