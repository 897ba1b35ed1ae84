"""An in-memory task queue: tasks in order, one per id."""

from __future__ import annotations

from uuid import UUID

from valorize_core.ports.task_queue import Task

__all__ = ["InMemoryTaskQueue"]


class InMemoryTaskQueue:
    """Keeps enqueued tasks in order; enqueuing an id again is a no-op (deduplication)."""

    def __init__(self) -> None:
        self._tasks: dict[str, Task] = {}
        self.dead: dict[UUID, tuple[Task, int, str]] = {}

    async def enqueue(self, task: Task) -> None:
        self.put(task)

    def put(self, task: Task) -> None:
        """Enqueue without awaiting (a memory unit's commit puts its tasks so)."""
        self._tasks.setdefault(str(task.id), task)

    def pending(self) -> list[Task]:
        """Tasks not yet taken, oldest first."""
        return list(self._tasks.values())

    async def dead_letter(self, task: Task, attempts: int, reason: str) -> None:
        """Keep a task that failed for good, with the reason."""
        self.dead[task.id] = (task, attempts, reason)

    def take(self) -> Task | None:
        """Remove and return the oldest task."""
        if not self._tasks:
            return None
        key = next(iter(self._tasks))
        return self._tasks.pop(key)
