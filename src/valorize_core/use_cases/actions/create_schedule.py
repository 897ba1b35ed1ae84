"""Action: create a schedule (a recurring transaction template)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.schedules import LATEST, Schedule
from valorize_core.ports.recurrence import RecurrenceEngine
from valorize_core.use_cases.actions._shared import check_date, parse_amount
from valorize_core.use_cases.actions.create_transaction import SplitInput, build_splits
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require, require_categories

__all__ = ["CreateSchedule", "NewSchedule", "next_due"]


@dataclass(frozen=True, slots=True)
class NewSchedule:
    """A schedule to create: ``amount`` as a decimal string, posted on the dates of ``rule`` (an
    RFC 5545 RRULE) from ``starts_on``; give ``splits`` or at most a ``category_id``. An
    imported bank row within ``tolerance`` of the amount and ``window_days`` of a due date is
    linked to the occurrence instead of being added twice."""

    tenant_id: UUID
    account_id: UUID
    name: str
    amount: str
    rule: str
    starts_on: date
    payee: str | None = None
    splits: tuple[SplitInput, ...] = ()
    category_id: UUID | None = None
    tags: tuple[str, ...] = ()
    tolerance: str = "0"
    window_days: int = 3


def next_due(engine: RecurrenceEngine, schedule: Schedule, after: date | None) -> date | None:
    """The schedule's first date on or after ``after`` (its start when ``None``), or ``None``."""
    first = schedule.starts_on if after is None or after < schedule.starts_on else after
    found = engine.between(schedule.rule, schedule.starts_on, first, LATEST, limit=1)
    return found[0] if found else None


class CreateSchedule:
    """Validates the rule with the recurrence engine and stores the schedule."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewSchedule) -> Schedule:
        """Create the schedule and return it as stored."""
        starts_on = check_date(command.starts_on, "starts_on")
        async with self._ports.uow(command.tenant_id) as uow:
            account = await require(uow.accounts.get, command.account_id, "account")
            if account.archived:
                raise ValidationError.for_field("account_id", "the account is archived")
            amount = parse_amount(command.amount, account.currency)
            tolerance = abs(parse_amount(command.tolerance, account.currency, "tolerance"))
            splits = build_splits(amount, account.currency, command.splits, command.category_id)
            await require_categories(uow, (s.category_id for s in splits), "splits")
            rule = self._ports.recurrence.normalize(command.rule, starts_on)
            now = self._ports.clock.now()
            schedule = Schedule(
                id=self._ports.ids.new_id(), tenant_id=uow.tenant_id, account_id=account.id, name=command.name,
                payee=command.payee if command.payee is not None else command.name, amount=amount, splits=splits,
                rule=rule, starts_on=starts_on, next_due=None, created_at=now, updated_at=now,
                tolerance=Money(tolerance.minor, account.currency), tags=command.tags, window_days=command.window_days,
            )  # fmt: skip
            schedule = replace(schedule, next_due=next_due(self._ports.recurrence, schedule, None))
            await uow.schedules.add(schedule)
            uow.retires()  # no cached read shows schedules; posting an occurrence is a transaction write
            await uow.commit()
        return schedule
