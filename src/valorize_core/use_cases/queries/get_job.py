"""Query: one job (background work a client asked for): pending, completed with its result, or failed."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.jobs import Job
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["GetJob", "JobLookup"]


@dataclass(frozen=True, slots=True)
class JobLookup:
    """Which job."""

    tenant_id: UUID
    job_id: UUID


class GetJob:
    """Reads one job or raises :class:`NotFound`."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: JobLookup) -> Job:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await require(uow.jobs.get, query.job_id, "job")
