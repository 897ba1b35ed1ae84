"""Action: import a parsed bank statement into an account, all or nothing."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from valorize_core.actions._shared import move_balance, record_updated, require, retry_on_contention
from valorize_core.context import Ports
from valorize_core.errors import Contention, ValidationError
from valorize_core.events import ImportCompleted, ImportProgressed, TransactionsImported
from valorize_core.fingerprint import fingerprints_with_occurrence
from valorize_core.listing import TransactionFilter
from valorize_core.payees import display_payee
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.statements.imports import ImportStatus, StatementImport
from valorize_core.statements.matching import FUZZY_WINDOW_DAYS, RowOutcome, match_rows
from valorize_core.statements.rows import ParsedStatement, StatementRow
from valorize_core.text import clean_text
from valorize_core.transactions import (
    Categorization,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)

__all__ = ["ImportStatement", "StatementUpload"]


@dataclass(frozen=True, slots=True)
class StatementUpload:
    """A parsed statement for an account.

    With row errors nothing is imported unless ``skip_invalid_rows``: then the good rows are
    imported (atomically) and the bad ones reported.
    """

    tenant_id: UUID
    account_id: UUID
    filename: str
    statement: ParsedStatement
    skip_invalid_rows: bool = False
    import_id: UUID | None = None


def _settled(
    stored: Transaction, row: StatementRow, outcome: RowOutcome, now: datetime
) -> tuple[Transaction, tuple[str, ...]]:
    """A stored transaction updated by the row that matched it, and the fields that changed.

    ``POSTS``: it is posted now, on the row's date and for the row's amount (a pending card
    authorization may settle for a different amount; the splits keep their proportions).
    Either way it adopts the row's bank id when it had none.
    """
    changes: dict[str, object] = {}
    if stored.external_id is None and row.external_id:
        changes["external_id"] = row.external_id
    if outcome is RowOutcome.POSTS:
        changes["status"] = TransactionStatus.POSTED
        if row.booked_on != stored.booked_on:
            changes["booked_on"] = row.booked_on
        if row.amount != stored.amount:
            changes["amount"] = row.amount
            weights = [abs(sp.amount.minor) for sp in stored.splits]
            parts = row.amount.allocate(weights if any(weights) else [1] * len(weights))
            changes["splits"] = tuple(replace(sp, amount=part) for sp, part in zip(stored.splits, parts, strict=True))
    return replace(stored, updated_at=now, **changes), tuple(changes)  # type: ignore[arg-type]


class _Progress:
    """Publishes ``import.progressed`` about every 10 % (and at most every 1,000 rows) of a
    large import, straight to subscribers: progress is news, not state, so it skips the outbox."""

    def __init__(self, ports: Ports, import_id: UUID, tenant_id: UUID, total: int) -> None:
        self._ports, self._import_id, self._tenant_id, self._total = ports, import_id, tenant_id, total
        self._every = max(100, min(1000, total // 10))

    async def __call__(self, processed: int) -> None:
        publisher = self._ports.publisher
        if publisher is None or processed % self._every:
            return
        event = self._ports.event(ImportProgressed, self._tenant_id, import_id=str(self._import_id),
                                  processed=processed, total=self._total)  # fmt: skip
        with contextlib.suppress(Exception):  # a missed progress report must not fail the import
            await publisher.publish([event])


class ImportStatement:
    """Deduplicates, categorizes and stores a statement's rows in one unit of work.

    Each row is new, a duplicate, or the posted version of a stored pending transaction, as
    :mod:`valorize_core.statements.matching` decides (bank id, then fingerprint, then a fuzzy
    pass). The import record is written in the same unit of work, so it says exactly what was
    stored; while a large file runs, ``import.progressed`` events report how far it got.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: StatementUpload) -> StatementImport:
        """Run the import and return its record (``failed`` with errors when rejected)."""
        filename = clean_text(command.filename, "filename", 255) or "statement"
        rows = command.statement.rows
        errors = command.statement.errors
        async with self._ports.uow(command.tenant_id) as uow:
            account = await require(uow.accounts.get, command.account_id, "account")
            for row in rows:
                if row.amount.currency != account.currency:
                    raise ValidationError.for_field("account_id", f"the statement is not in {account.currency.code}")
            record = StatementImport(
                id=command.import_id or self._ports.ids.new_id(),
                tenant_id=command.tenant_id,
                account_id=account.id,
                filename=filename,
                status=ImportStatus.RUNNING,
                created_at=self._ports.clock.now(),
                total_rows=len(rows) + len(errors),
            )
            existing = await uow.imports.get(record.id)
            if existing is None:
                await uow.imports.add(record)
            else:  # requested earlier (upload), run now by the import task
                record = replace(record, created_at=existing.created_at, filename=existing.filename)
                await uow.imports.update(record)
            if errors and not command.skip_invalid_rows:
                failed = replace(
                    record, status=ImportStatus.FAILED, errors=errors, completed_at=self._ports.clock.now()
                )
                await uow.imports.update(failed)
                self._completed(uow, failed)
                await uow.commit()
                return failed
            prints = fingerprints_with_occurrence(account.id, ((r.booked_on, r.amount, r.description) for r in rows))
            known_ids = await uow.transactions.existing_external_ids(
                account.id, [r.external_id for r in rows if r.external_id]
            )
            known_prints = await uow.transactions.existing_fingerprints(account.id, prints)
            candidates = await self._candidates(uow, account.id, rows)
            decisions = match_rows(rows, prints, known_ids=known_ids, known_prints=known_prints, candidates=candidates)
            await self._lock_matched(uow, [d.existing for d in decisions if d.existing is not None])
            rules = await uow.rules.list()
            categories = {c.id for c in await uow.categories.list()}
            now = self._ports.clock.now()
            fresh: list[Transaction] = []
            duplicates = updated = 0
            delta = 0
            progress = _Progress(self._ports, record.id, command.tenant_id, len(rows))
            for done_rows, (row, fp, decision) in enumerate(zip(rows, prints, decisions, strict=True), start=1):
                await progress(done_rows)
                if decision.outcome is RowOutcome.DUPLICATE:
                    duplicates += 1
                    continue
                if decision.existing is not None:  # POSTS or RECONCILE: the stored one is updated
                    changed, fields = _settled(decision.existing, row, decision.outcome, now)
                    await uow.transactions.update(changed)
                    record_updated(uow, self._ports, changed, fields)
                    delta += changed.amount.minor - decision.existing.amount.minor
                    if decision.outcome is RowOutcome.POSTS:
                        updated += 1
                    else:
                        duplicates += 1
                    continue
                draft = Transaction(
                    id=self._ports.ids.new_id(), tenant_id=command.tenant_id, account_id=account.id,
                    booked_on=row.booked_on, description=row.description,
                    payee=row.payee or display_payee(row.description), amount=row.amount,
                    splits=(Split(None, row.amount),), created_at=now, updated_at=now,
                    status=TransactionStatus.PENDING if row.pending else TransactionStatus.POSTED,
                    source=TransactionSource.IMPORT, external_id=row.external_id,
                    fingerprint=None if fp in known_prints else fp,
                    categorization=Categorization.none(), import_id=record.id,
                )  # fmt: skip
                outcome = await self._ports.categorizer.categorize(draft, rules, uow, known=categories)
                fresh.append(outcome.transaction)
            await uow.transactions.add_many(fresh)
            await move_balance(uow, self._ports, account.id, delta + sum(t.amount.minor for t in fresh))
            done = replace(
                record,
                status=ImportStatus.COMPLETED,
                imported=len(fresh),
                duplicates=duplicates,
                updated=updated,
                errors=tuple(errors),
                completed_at=self._ports.clock.now(),
            )
            await uow.imports.update(done)
            uow.record(
                self._ports.event(
                    TransactionsImported,
                    uow.tenant_id,
                    import_id=str(done.id),
                    account_id=str(account.id),
                    imported=done.imported,
                    duplicates=duplicates,
                )
            )
            self._completed(uow, done)
            await uow.commit()
        return done

    @staticmethod
    async def _lock_matched(uow: UnitOfWork, matched: Sequence[Transaction]) -> None:
        """Lock the stored transactions the file settles; if one changed (or went) since it was
        matched, the match is stale: :class:`Contention` runs the import again on fresh rows."""
        if not matched:
            return
        locked = {tx.id: tx for tx in await uow.transactions.lock([tx.id for tx in matched])}
        if any(locked.get(tx.id) != tx for tx in matched):
            raise Contention("a matched transaction changed during the import")

    @staticmethod
    async def _candidates(uow: UnitOfWork, account_id: UUID, rows: Sequence[StatementRow]) -> list[Transaction]:
        """Stored transactions of the account near the file's dates (fuzzy and pending matches)."""
        if not rows:
            return []
        window = timedelta(days=FUZZY_WINDOW_DAYS)
        days = [r.booked_on for r in rows]
        flt = TransactionFilter(account_ids=(account_id,), date_from=min(days) - window, date_to=max(days) + window)
        return await uow.transactions.all(flt)

    def _completed(self, uow: UnitOfWork, record: StatementImport) -> None:
        uow.record(
            self._ports.event(
                ImportCompleted,
                record.tenant_id,
                import_id=str(record.id),
                status=record.status.value,
                imported=record.imported,
                duplicates=record.duplicates,
                updated=record.updated,
                errors=len(record.errors),
            )
        )
