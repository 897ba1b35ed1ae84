"""Port: schedules and the occurrences handled for them."""

from __future__ import annotations

from datetime import date
from typing import Protocol
from uuid import UUID

from valorize_core.model.schedules import Schedule, ScheduleOccurrence

__all__ = ["ScheduleDirectory", "ScheduleRepository"]


class ScheduleRepository(Protocol):
    """Schedules of the unit of work's tenant."""

    async def get(self, schedule_id: UUID, *, for_update: bool = False) -> Schedule | None:
        """The schedule, or ``None``; ``for_update`` holds it until the unit of work ends (posting
        and linking read the ``next_due`` they change)."""
        ...

    async def due(self, day: date) -> list[Schedule]:
        """Active schedules whose ``next_due`` is on or before ``day``, by id."""
        ...

    async def add(self, schedule: Schedule) -> None:
        """Store a new schedule (``NotFound`` for an unknown account or category)."""
        ...

    async def update(self, schedule: Schedule) -> None:
        """Store its new state (``NotFound`` if absent)."""
        ...

    async def remove(self, schedule_id: UUID) -> None:
        """Delete it and its occurrence records (the transactions stay)."""
        ...

    async def record(self, occurrence: ScheduleOccurrence) -> bool:
        """Record a handled occurrence; ``False`` (and nothing written) when that schedule's
        date was handled before — the store's unique key, so a second job cannot double-post."""
        ...

    async def occurrences(self, schedule_id: UUID) -> list[ScheduleOccurrence]:
        """The handled occurrences of a schedule, by date."""
        ...

    async def list(self) -> list[Schedule]:
        """Every schedule, by name (ties by id)."""
        ...


class ScheduleDirectory(Protocol):
    """The cross-tenant reads of schedules: which tenants have one, and an occurrence due."""

    async def tenants_due(self, day: date) -> list[UUID]:
        """Tenants with an active schedule whose ``next_due`` is on or before ``day``."""
        ...

    async def tenants_scheduled(self) -> list[UUID]:
        """Tenants with an active schedule (their projections are checked once a day)."""
        ...
