"""Action: import a parsed bank statement into an account, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from valorize_core.actions._shared import move_balance, require
from valorize_core.context import Ports
from valorize_core.errors import ValidationError
from valorize_core.events import ImportCompleted, TransactionsImported
from valorize_core.fingerprint import fingerprints_with_occurrence
from valorize_core.payees import display_payee
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.statements.imports import ImportStatus, StatementImport
from valorize_core.statements.rows import ParsedStatement
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


class ImportStatement:
    """Deduplicates, categorizes and stores a statement's rows in one unit of work.

    A row is a duplicate when its bank id is already stored for the account (or repeats within
    the file), or, without a bank id, when its fingerprint is. The import record is written in
    the same unit of work, so it says exactly what was stored.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

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
            rules = await uow.rules.list()
            categories = {c.id for c in await uow.categories.list()}
            now = self._ports.clock.now()
            fresh: list[Transaction] = []
            duplicates = 0
            for row, fp in zip(rows, prints, strict=True):
                if (row.external_id and row.external_id in known_ids) or (not row.external_id and fp in known_prints):
                    duplicates += 1
                    continue
                if row.external_id:
                    known_ids.add(row.external_id)
                draft = Transaction(
                    id=self._ports.ids.new_id(), tenant_id=command.tenant_id, account_id=account.id,
                    booked_on=row.booked_on, description=row.description,
                    payee=row.payee or display_payee(row.description), amount=row.amount,
                    splits=(Split(None, row.amount),), created_at=now, updated_at=now,
                    status=TransactionStatus.PENDING if row.pending else TransactionStatus.POSTED,
                    source=TransactionSource.IMPORT, external_id=row.external_id, fingerprint=fp,
                    categorization=Categorization.none(), import_id=record.id,
                )  # fmt: skip
                outcome = await self._ports.categorizer.categorize(draft, rules, uow, known=categories)
                fresh.append(outcome.transaction)
            await uow.transactions.add_many(fresh)
            await move_balance(uow, self._ports, account.id, sum(t.amount.minor for t in fresh))
            done = replace(
                record,
                status=ImportStatus.COMPLETED,
                imported=len(fresh),
                duplicates=duplicates,
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

    def _completed(self, uow: UnitOfWork, record: StatementImport) -> None:
        uow.record(
            self._ports.event(
                ImportCompleted,
                record.tenant_id,
                import_id=str(record.id),
                status=record.status.value,
                imported=record.imported,
                duplicates=record.duplicates,
                errors=len(record.errors),
            )
        )
