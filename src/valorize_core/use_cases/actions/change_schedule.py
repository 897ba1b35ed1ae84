"""Actions: pause, resume, re-price or delete a schedule."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.schedules import Schedule
from valorize_core.model.transactions import Split
from valorize_core.use_cases.actions._shared import parse_amount
from valorize_core.use_cases.actions.create_schedule import next_due
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["ChangeSchedule", "DeleteSchedule", "ScheduleChange", "ScheduleDeletion"]


@dataclass(frozen=True, slots=True)
class ScheduleChange:
    """What to change (``None``: keep). A new ``amount`` applies to a single-split schedule; a
    new ``rule`` restarts ``next_due`` from the first date not yet handled; resuming a paused
    schedule skips the dates it missed (from today on)."""

    tenant_id: UUID
    schedule_id: UUID
    name: str | None = None
    amount: str | None = None
    tolerance: str | None = None
    rule: str | None = None
    active: bool | None = None
    window_days: int | None = None


@dataclass(frozen=True, slots=True)
class ScheduleDeletion:
    """Delete a schedule (its posted transactions stay)."""

    tenant_id: UUID
    schedule_id: UUID


class ChangeSchedule:
    """Applies a :class:`ScheduleChange`."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: ScheduleChange) -> Schedule:
        """Change the schedule and return it as stored."""
        async with self._ports.uow(command.tenant_id) as uow:
            current = await require(lambda i: uow.schedules.get(i, for_update=True), command.schedule_id, "schedule")
            cur = current.amount.currency
            changed = current
            if command.name is not None:
                changed = replace(changed, name=command.name)
            if command.amount is not None:
                amount = parse_amount(command.amount, cur)
                if len(changed.splits) != 1:
                    raise ValidationError.for_field("amount", "a split schedule is re-priced by replacing it")
                split = changed.splits[0]
                changed = replace(changed, amount=amount, splits=(Split(split.category_id, amount, split.memo),))
            if command.tolerance is not None:
                changed = replace(
                    changed, tolerance=Money(abs(parse_amount(command.tolerance, cur, "tolerance")).minor, cur)
                )
            if command.window_days is not None:
                changed = replace(changed, window_days=command.window_days)
            if command.active is not None:
                changed = replace(changed, active=command.active)
                if command.active and not current.active and changed.next_due is not None:
                    # Resumed: the dates missed while paused stay skipped (not posted in a burst).
                    today = self._ports.clock.now().date()
                    changed = replace(changed, next_due=next_due(self._ports.recurrence, changed,
                                                                 max(changed.next_due, today)))  # fmt: skip
            if command.rule is not None:
                rule = self._ports.recurrence.normalize(command.rule, changed.starts_on)
                handled = await uow.schedules.occurrences(changed.id)
                after = handled[-1].due_on if handled else None
                changed = replace(changed, rule=rule)
                changed = replace(
                    changed,
                    next_due=next_due(
                        self._ports.recurrence, changed, None if after is None else after + timedelta(days=1)
                    ),
                )
            changed = replace(changed, updated_at=self._ports.clock.now())
            await uow.schedules.update(changed)
            uow.retires()  # no cached read shows schedules; posting an occurrence is a transaction write
            await uow.commit()
        return changed


class DeleteSchedule:
    """Deletes a schedule and its occurrence records."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: ScheduleDeletion) -> None:
        """Delete it (``NotFound`` if absent)."""
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.schedules.remove(command.schedule_id)
            uow.retires()  # no cached read shows schedules; posting an occurrence is a transaction write
            await uow.commit()
