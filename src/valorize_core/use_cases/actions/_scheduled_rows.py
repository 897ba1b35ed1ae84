"""Imported bank rows that are a schedule's expected occurrence: linked, not added twice.

A row matches an occurrence of one of the account's active schedules when it has the
schedule's payee key and sign, its amount is within the schedule's tolerance and its date
within ``window_days`` of a due date (:func:`~valorize_core.model.schedules.matches_occurrence`).
Then:

- the occurrence was **posted** already: the posted transaction *is* the row — it takes the
  row's date, amount and bank id (the balance moves by the difference) and nothing is added;
- the occurrence is **still to come**: the row is added as imported, and the occurrence is
  recorded as ``linked`` to it, so the posting job skips that date.

Each occurrence is claimed by one row of a file at most; the closest due date wins.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.errors import Contention
from valorize_core.model.payees import payee_key
from valorize_core.model.schedules import (
    MAX_MATCH_WINDOW,
    OccurrenceHandling,
    Schedule,
    ScheduleOccurrence,
    matches_occurrence,
)
from valorize_core.model.statements.rows import StatementRow
from valorize_core.model.transactions import Transaction
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.context import Ports

__all__ = ["ScheduledMatch", "ScheduledRows"]


@dataclass(frozen=True, slots=True)
class ScheduledMatch:
    """The occurrence a row is; ``posted`` is its transaction when it was posted already."""

    schedule: Schedule
    due_on: date
    posted: Transaction | None


class ScheduledRows:
    """The account's schedules and their handled occurrences near a file's dates."""

    def __init__(self, uow: UnitOfWork, schedules: list[tuple[Schedule, list[date]]],
                 handled: dict[tuple[UUID, date], ScheduleOccurrence]) -> None:  # fmt: skip
        self._uow = uow
        self._schedules = schedules  # each with its due dates over the file's span, ascending
        self._handled = handled
        self._claimed: set[tuple[UUID, date]] = set()

    @classmethod
    async def load(cls, uow: UnitOfWork, ports: Ports, account_id: UUID, rows: list[StatementRow]) -> ScheduledRows:
        """Read what matching the rows needs (nothing when the account has no active schedule).
        Each schedule's rule is evaluated once, over the file's dates and the widest window, so
        matching a row is a binary search, whatever the number of rows."""
        schedules = [s for s in await uow.schedules.list() if s.account_id == account_id and s.active] if rows else []
        handled: dict[tuple[UUID, date], ScheduleOccurrence] = {}
        dated: list[tuple[Schedule, list[date]]] = []
        if schedules:
            window = timedelta(days=MAX_MATCH_WINDOW)
            first, last = min(r.booked_on for r in rows) - window, max(r.booked_on for r in rows) + window
            for schedule in schedules:
                dated.append((schedule, ports.recurrence.between(schedule.rule, schedule.starts_on, first, last)))
                for o in await uow.schedules.occurrences(schedule.id):
                    handled[(o.schedule_id, o.due_on)] = o
        return cls(uow, dated, handled)

    async def match(self, row: StatementRow) -> ScheduledMatch | None:
        """The occurrence ``row`` is, claimed for it, or ``None``."""
        if not self._schedules:
            return None
        key = payee_key(row.payee or row.description)
        best: tuple[int, str, Schedule, date] | None = None
        for s, dates in self._schedules:
            window = timedelta(days=s.window_days)
            start, stop = bisect_left(dates, row.booked_on - window), bisect_right(dates, row.booked_on + window)
            for due in dates[start:stop]:
                if (s.id, due) in self._claimed:
                    continue
                handled = self._handled.get((s.id, due))
                if handled is not None and handled.handling is OccurrenceHandling.LINKED:
                    continue
                if matches_occurrence(s, due, key=key, amount=row.amount, booked_on=row.booked_on):
                    rank = (abs((row.booked_on - due).days), str(s.id), s, due)
                    if best is None or rank[:2] < best[:2]:
                        best = rank
        if best is None:
            return None
        schedule, due = best[2], best[3]
        handled = self._handled.get((schedule.id, due))
        posted = None
        if handled is not None:
            locked = await self._uow.transactions.lock([handled.transaction_id])
            if not locked:
                return None  # the posted transaction was deleted: the row is new, the date stays handled
            posted = locked[0]
        self._claimed.add((schedule.id, due))
        return ScheduledMatch(schedule, due, posted)

    async def link(self, match: ScheduledMatch, transaction_id: UUID) -> None:
        """Record a still-to-come occurrence as linked to the imported ``transaction_id``.

        Raises :class:`Contention` when the posting job recorded the date meanwhile (it
        committed after this import read the occurrences): the import runs again and finds the
        posted transaction to update instead of adding a second one."""
        occurrence = ScheduleOccurrence(match.schedule.id, match.due_on, transaction_id, OccurrenceHandling.LINKED)
        if not await self._uow.schedules.record(occurrence):
            raise Contention("the occurrence was posted during the import")
