"""Action: post the due occurrences of a tenant's schedules, each exactly once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.schedules import OccurrenceHandling, Schedule, ScheduleOccurrence
from valorize_core.model.transactions import Categorization, Split, Transaction, TransactionSource
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.actions._shared import (
    move_balance,
    record_created,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.actions.create_schedule import next_due
from valorize_core.use_cases.context import Ports

__all__ = ["CATCH_UP", "PostSchedules", "SchedulePosting"]

CATCH_UP = 100  # occurrences of one schedule one run posts; a later run posts the rest


@dataclass(frozen=True, slots=True)
class SchedulePosting:
    """Post every occurrence due on or before ``day``."""

    tenant_id: UUID
    day: date


class PostSchedules:
    """Turns due occurrences into ``recurring`` transactions.

    Exactly once per schedule and date: each occurrence is recorded (``uow.schedules.record``)
    in the same unit as its transaction, and the store refuses a second record of the same
    schedule and date, so a redelivered task, a second worker or a restarted one adds nothing.
    The schedule is read locked, so concurrent runs queue behind each other and the second finds
    ``next_due`` already moved on. An occurrence linked to an imported bank row beforehand is
    skipped the same way.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: SchedulePosting) -> list[Transaction]:
        """Post what is due; return the transactions created."""
        posted: list[Transaction] = []
        async with self._ports.uow(command.tenant_id) as uow:
            due = await uow.schedules.due(command.day)
            if due:  # the tree the posted rows' scopes are declared from, held before any row lock
                await uow.categories.list(for_share=True)
            for candidate in due:
                schedule = await uow.schedules.get(candidate.id, for_update=True)
                if schedule is None or not schedule.active or schedule.next_due is None:
                    continue
                if schedule.next_due > command.day:
                    continue  # a concurrent run posted it while this one waited
                posted.extend(await self._post(uow, schedule, command.day))
            if posted:  # a posted occurrence is a transaction write
                await retire_transactions(uow, *posted)
            else:
                uow.retires()  # at most a schedule's next date or pause: no cached read shows them
            await uow.commit()
        return posted

    async def _post(self, uow: UnitOfWork, schedule: Schedule, day: date) -> list[Transaction]:
        engine, ports = self._ports.recurrence, self._ports
        assert schedule.next_due is not None
        account = await uow.accounts.get(schedule.account_id)
        if account is None or account.archived:
            await uow.schedules.update(replace(schedule, active=False, updated_at=ports.clock.now()))
            return []
        dates = engine.between(schedule.rule, schedule.starts_on, schedule.next_due, day, limit=CATCH_UP)
        known = {c.id for c in await uow.categories.list()}
        out: list[Transaction] = []
        for due_on in dates:
            tx_id = ports.ids.new_id()
            if not await uow.schedules.record(
                ScheduleOccurrence(schedule.id, due_on, tx_id, OccurrenceHandling.POSTED)
            ):
                continue  # posted before, or linked to an imported row
            tx = await self._transaction(uow, schedule, due_on, tx_id, known)
            await uow.transactions.add(tx)
            await move_balance(uow, ports, schedule.account_id, tx.amount.minor)
            record_created(uow, ports, tx)
            out.append(tx)
        # Cut short by CATCH_UP, the next run starts after the last date posted; else after ``day``.
        after = (dates[-1] if len(dates) >= CATCH_UP else day) + timedelta(days=1)
        updated = replace(schedule, next_due=next_due(engine, schedule, after), updated_at=ports.clock.now())
        await uow.schedules.update(updated)
        return out

    async def _transaction(
        self, uow: UnitOfWork, schedule: Schedule, due_on: date, tx_id: UUID, known: set[UUID]
    ) -> Transaction:
        # A category deleted since the schedule was made leaves its split uncategorized.
        splits = tuple(
            s if s.category_id is None or s.category_id in known else Split(None, s.amount, s.memo)
            for s in schedule.splits
        )
        manual = any(s.category_id is not None for s in splits)
        now = self._ports.clock.now()
        draft = Transaction(
            id=tx_id, tenant_id=uow.tenant_id, account_id=schedule.account_id, booked_on=due_on,
            description=schedule.name, payee=schedule.payee, amount=schedule.amount, splits=splits,
            created_at=now, updated_at=now, source=TransactionSource.RECURRING, tags=schedule.tags,
            categorization=Categorization.manual(f"from the schedule {schedule.name}") if manual
            else Categorization.none(),
        )  # fmt: skip
        outcome = await self._ports.categorizer.categorize(
            draft, await uow.rules.list(), uow, keep_categories=manual, known=known
        )
        return outcome.transaction
