"""Port: background tasks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from valorize_core.model.follow_ups import Precondition

__all__ = ["RETRY", "RetryPolicy", "Task", "TaskQueue"]


@dataclass(frozen=True, slots=True)
class Task:
    """A unit of background work; ``id`` makes delivery idempotent (one effect per id).

    ``correlation_id`` is the request id of the HTTP call that caused it (it travels with the
    task into the worker's logs and the task's own events).

    ``precondition``: what the task needs to find to have anything to do. A queue that can check
    it when enqueuing (the local queue, in the commit) writes the task only when it holds; it is
    not stored with the task.
    """

    id: UUID
    name: str
    tenant_id: UUID
    payload: dict[str, Any] = field(default_factory=dict)
    not_before: datetime | None = None
    correlation_id: str | None = None
    precondition: Precondition | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a failed delivery is tried again: after ``backoff`` seconds, doubling each time up to
    ``max_backoff``; attempt ``max_attempts`` is the last, then the task is a dead letter. The
    dispatchers of every queue follow it, and Cloud Tasks' ``retry_config`` in deploy/terraform
    says the same."""

    max_attempts: int = 8
    backoff: float = 0.5
    max_backoff: float = 300.0

    def gives_up(self, attempt: int) -> bool:
        """Whether a failure of ``attempt`` (1 for the first) ends the task as a dead letter."""
        return attempt >= self.max_attempts

    def delay(self, attempt: int) -> float:
        """Seconds to wait after a failure of ``attempt`` before the next one."""
        return min(self.backoff * 2.0 ** (attempt - 1), self.max_backoff)


RETRY = RetryPolicy()
"""The default policy."""


class TaskQueue(Protocol):
    """Durable, at-least-once task delivery. Enqueuing the same task id twice is harmless."""

    async def enqueue(self, task: Task) -> None:
        """Schedule a task."""
        ...
