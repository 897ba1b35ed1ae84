"""Port: the ids of tasks whose effects are committed."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

__all__ = ["ProcessedTaskRepository"]


class ProcessedTaskRepository(Protocol):
    """Task ids of the unit of work's tenant, recorded with the task's effects."""

    async def mark(self, task_id: UUID, name: str) -> bool:
        """Record the task as processed; ``False`` if it already was (a redelivery)."""
        ...
