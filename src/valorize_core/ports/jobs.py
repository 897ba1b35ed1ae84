"""Port: jobs (background work a client asked for) and their outcomes."""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from valorize_core.model.jobs import Job

__all__ = ["JobRepository"]


class JobRepository(Protocol):
    """Jobs of the unit of work's tenant."""

    async def get(self, job_id: UUID) -> Job | None:
        """The job, or ``None``."""
        ...

    async def add(self, job: Job) -> None:
        """Store a new job (``Conflict`` if its id exists)."""
        ...

    async def update(self, job: Job) -> None:
        """Store its new status and result (``NotFound`` if absent)."""
        ...
