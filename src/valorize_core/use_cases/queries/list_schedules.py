"""Queries: the tenant's schedules, one schedule with its upcoming and handled occurrences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.forecast import Flow
from valorize_core.model.schedules import Schedule, ScheduleOccurrence
from valorize_core.ports.recurrence import RecurrenceEngine
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["GetSchedule", "ListSchedules", "ScheduleDetail", "ScheduleQuery", "SchedulesQuery", "scheduled_flows"]

UPCOMING = 12  # upcoming dates a schedule's detail shows


def scheduled_flows(engine: RecurrenceEngine, schedules: Iterable[Schedule], through: date) -> list[Flow]:
    """The amounts active schedules will post from their ``next_due`` through ``through``."""
    flows = []
    for s in schedules:
        if s.active and s.next_due is not None and s.next_due <= through:
            for on in engine.between(s.rule, s.starts_on, s.next_due, through):
                flows.append(Flow(s.account_id, on, s.amount.minor))
    return flows


@dataclass(frozen=True, slots=True)
class SchedulesQuery:
    """Whose schedules."""

    tenant_id: UUID


@dataclass(frozen=True, slots=True)
class ScheduleQuery:
    """One schedule."""

    tenant_id: UUID
    schedule_id: UUID


@dataclass(frozen=True, slots=True)
class ScheduleDetail:
    """A schedule, its next dates (from ``next_due``) and the occurrences handled so far."""

    schedule: Schedule
    upcoming: tuple[date, ...]
    handled: tuple[ScheduleOccurrence, ...]


class ListSchedules:
    """Every schedule of the tenant, by name."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: SchedulesQuery) -> list[Schedule]:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.schedules.list()


class GetSchedule:
    """One schedule with its upcoming dates and handled occurrences."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: ScheduleQuery) -> ScheduleDetail:
        """Run the query (``NotFound`` if absent)."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            schedule = await require(uow.schedules.get, query.schedule_id, "schedule")
            handled = await uow.schedules.occurrences(schedule.id)
        upcoming: list[date] = []
        if schedule.next_due is not None:
            last = schedule.next_due + timedelta(days=366 * 30)
            upcoming = self._ports.recurrence.between(schedule.rule, schedule.starts_on, schedule.next_due, last,
                                                      limit=UPCOMING)  # fmt: skip
        return ScheduleDetail(schedule, tuple(upcoming), tuple(handled))
