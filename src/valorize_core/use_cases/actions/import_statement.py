"""The statement import, one concept from upload to stored rows.

- :class:`RequestImport` accepts a file: a ``pending`` import keeping the file, and
  ``ImportRequested`` recorded with it (the relay turns it into an ``import_statement`` task).
- :class:`RunImport` runs it, in ONE unit of work: take the kept file (released in that same
  unit), parse it, store the rows and the outcome. A failure at any step before the commit
  leaves the import ``pending`` with its file, and the task is retried; a committed run has
  released the file, so a redelivery finds nothing to do. A file the domain refuses (unreadable,
  bad rows, another currency, a vanished account) makes the import ``failed``, its file released.
- :class:`ImportStatement` imports a statement already parsed (services using the library,
  benchmarks); both imports share :meth:`ImportStatement.store`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.errors import Conflict, Contention, NotFound, ValidationError
from valorize_core.model.events import ImportCompleted, ImportProgressed, ImportRequested, TransactionsImported
from valorize_core.model.fingerprint import fingerprints_with_occurrence
from valorize_core.model.money import Currency, Money
from valorize_core.model.payees import display_payee
from valorize_core.model.statements.imports import BalanceCheck, ImportStatus, RowError, StatementImport
from valorize_core.model.statements.matching import MatchScope, RowOutcome, match_rows
from valorize_core.model.statements.rows import ParsedStatement, StatementRow
from valorize_core.model.text import clean_text
from valorize_core.model.transactions import (
    Categorization,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.actions._scheduled_rows import ScheduledMatch, ScheduledRows
from valorize_core.use_cases.actions._shared import (
    move_balance,
    record_updated,
    retire_transactions,
    retry_on_contention,
)
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = [
    "MAX_FILE_BYTES",
    "ImportCollided",
    "ImportRequest",
    "ImportRun",
    "ImportStatement",
    "RequestImport",
    "RunImport",
    "StatementUpload",
]

MAX_FILE_BYTES = 10_000_000


@dataclass(frozen=True, slots=True)
class ImportRequest:
    """A statement file for an account: its format (``csv`` needs a ``mapping``; ``ofx`` none)
    and whether bad rows are skipped."""

    tenant_id: UUID
    account_id: UUID
    filename: str
    content: bytes
    mapping: dict[str, Any]
    skip_invalid_rows: bool = False
    format: str = "csv"


@dataclass(frozen=True, slots=True)
class ImportRun:
    """Which requested import to run."""

    tenant_id: UUID
    import_id: UUID


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


class ImportCollided(Exception):
    """A concurrent write stored some of the rows first (two imports of one file at once).

    Not a domain error: nothing was stored, the import stays ``pending`` with its file, and
    running it again finds those rows stored and counts them as duplicates."""


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


class RequestImport:
    """Stores a pending import with its file and records ``ImportRequested`` (the task follows)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: ImportRequest) -> StatementImport:
        """Validate and accept the file; returns the pending import."""
        if not command.content:
            raise ValidationError.for_field("file", "the file is empty")
        if len(command.content) > MAX_FILE_BYTES:
            raise ValidationError.for_field("file", f"files are at most {MAX_FILE_BYTES} bytes")
        parser = self._ports.parsers.get(command.format)
        if parser is None:
            raise ValidationError.for_field("format", f"must be one of {', '.join(sorted(self._ports.parsers))}")
        options: dict[str, Any] = {"skip_invalid_rows": bool(command.skip_invalid_rows)}
        if command.mapping:
            options["mapping"] = dict(command.mapping)
        parser.check_options(options)
        record = StatementImport(
            id=self._ports.ids.new_id(),
            tenant_id=command.tenant_id,
            account_id=command.account_id,
            filename=clean_text(command.filename, "filename", 255) or "statement.csv",
            status=ImportStatus.PENDING,
            created_at=self._ports.clock.now(),
        )
        async with self._ports.uow(command.tenant_id) as uow:
            await require(uow.accounts.get, command.account_id, "account")
            await uow.imports.add(record)
            await uow.imports.save_source(record.id, command.format, command.content, options)
            uow.retires()  # the import's record and file: no cached read shows them
            uow.record(
                self._ports.event(
                    ImportRequested, command.tenant_id, import_id=str(record.id), account_id=str(record.account_id)
                )
            )
            await uow.commit()
        return record


class RunImport:
    """Runs a requested import: take its file, parse it, store rows and outcome, in one unit.

    Taking the file (:meth:`~valorize_core.ports.imports.ImportRepository.take_source`) releases
    it in the unit that uses it, so the outcome and the release commit together or not at all.
    A task runs this once per task id (its id is recorded in the same unit); a second run of an
    import, by any other way, finds its file gone and returns the stored outcome.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports
        self._import = ImportStatement(ports)

    @retry_on_contention
    async def __call__(self, command: ImportRun) -> StatementImport:
        """Run the import; returns its outcome (``completed``, or ``failed`` with the reason).

        Raises :class:`NotFound` for an unknown import, :class:`ImportCollided` when a
        concurrent import stored some of the same rows first; anything else an adapter raises
        propagates with nothing stored."""
        async with self._ports.uow(command.tenant_id) as uow:
            record = await require(uow.imports.get, command.import_id, "import")
            source = await uow.imports.take_source(record.id)
            if source is None:  # already run: its outcome was committed with the release
                return record
            fmt, content, options = source
            try:
                account = await require(uow.accounts.get, record.account_id, "account")
                statement = self._parse(fmt, content, account.currency, options)
                record = replace(record, status=ImportStatus.RUNNING)
                skip = bool(options.get("skip_invalid_rows"))
                outcome = await self._import.store(uow, record, account, statement, skip_invalid_rows=skip)
                await uow.commit()
            except Contention:
                raise  # a matched row changed meanwhile: the whole unit runs again on fresh rows
            except Conflict as exc:
                raise ImportCollided(exc.message) from exc
            except (ValidationError, NotFound) as exc:
                reason = exc.message  # refused by the domain: retrying cannot help
            else:
                return outcome
        return await self._fail(command, reason)

    def _parse(self, fmt: str, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        """The file's rows; an unreadable file is one error (line 0) with the reason."""
        parser = self._ports.parsers.get(fmt)
        try:
            if parser is None:
                raise ValidationError.for_field("format", f"no parser for {fmt!r}")
            return parser.parse(content, currency, options)
        except ValidationError as exc:
            return ParsedStatement((), (RowError(0, exc.message),))

    async def _fail(self, command: ImportRun, reason: str) -> StatementImport:
        """Store the import as ``failed`` with ``reason`` and release its file, in a fresh unit
        (the one that was refused may hold half of its rows)."""
        async with self._ports.uow(command.tenant_id) as uow:
            record = await require(uow.imports.get, command.import_id, "import")
            if await uow.imports.take_source(record.id) is None:
                return record
            failed = replace(
                record, status=ImportStatus.FAILED, errors=(RowError(0, reason),), completed_at=self._ports.clock.now()
            )
            await uow.imports.update(failed)
            _announce(uow, self._ports, failed)
            uow.retires()  # no row stored: only the import's record changed
            await uow.commit()
        return failed


class ImportStatement:
    """Deduplicates, categorizes and stores a statement's rows in one unit of work.

    Each row is new, a duplicate, or the posted version of a stored pending transaction, as
    :mod:`valorize_core.model.statements.matching` decides (bank id, then fingerprint, then a fuzzy
    pass). The import record is written in the same unit of work, so it says exactly what was
    stored; while a large file runs, ``import.progressed`` events report how far it got.
    """

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    @retry_on_contention
    async def __call__(self, command: StatementUpload) -> StatementImport:
        """Run the import and return its record (``failed`` with errors when rejected)."""
        filename = clean_text(command.filename, "filename", 255) or "statement"
        async with self._ports.uow(command.tenant_id) as uow:
            account = await require(uow.accounts.get, command.account_id, "account")
            record = StatementImport(
                id=self._ports.ids.new_id(),
                tenant_id=command.tenant_id,
                account_id=account.id,
                filename=filename,
                status=ImportStatus.RUNNING,
                created_at=self._ports.clock.now(),
            )
            await uow.imports.add(record)
            done = await self.store(uow, record, account, command.statement, command.skip_invalid_rows)
            await uow.commit()
        return done

    async def store(
        self,
        uow: UnitOfWork,
        record: StatementImport,
        account: Account,
        statement: ParsedStatement,
        skip_invalid_rows: bool = False,
    ) -> StatementImport:
        """Store ``statement``'s rows and the import's outcome in ``uow`` (the caller commits);
        raises :class:`ValidationError` when a row is not in the account's currency."""
        rows = statement.rows
        errors = statement.errors
        for row in rows:
            if row.amount.currency != account.currency:
                raise ValidationError.for_field("account_id", f"the statement is not in {account.currency.code}")
        record = replace(record, total_rows=len(rows) + len(errors))
        if errors and not skip_invalid_rows:
            failed = replace(record, status=ImportStatus.FAILED, errors=errors, completed_at=self._ports.clock.now())
            await uow.imports.update(failed)
            _announce(uow, self._ports, failed)
            uow.retires()  # no row stored: only the import's record changed
            return failed
        prints = fingerprints_with_occurrence(account.id, ((r.booked_on, r.amount, r.description) for r in rows))
        known_ids = await uow.transactions.existing_external_ids(
            account.id, [r.external_id for r in rows if r.external_id]
        )
        known_prints = await uow.transactions.existing_fingerprints(account.id, prints)
        scope = MatchScope.of(rows, prints)
        candidates = await uow.transactions.match_candidates(account.id, scope) if scope is not None else []
        decisions = match_rows(rows, prints, known_ids=known_ids, known_prints=known_prints, candidates=candidates)
        # The tree the rows' scopes are declared from (retire_transactions), held shared before
        # any row lock, as every transaction write holds it.
        categories = {c.id for c in await uow.categories.list(for_share=True)}
        await self._lock_matched(uow, [d.existing for d in decisions if d.existing is not None])
        rules = await uow.rules.list()
        new_rows = [row for row, d in zip(rows, decisions, strict=True) if d.outcome is RowOutcome.NEW]
        await self._ports.categorizer.read_ahead_many(uow, ((_categorized_text(row), row.amount) for row in new_rows))
        now = self._ports.clock.now()
        fresh: list[Transaction] = []
        duplicates = updated = 0
        delta = 0
        progress = _Progress(self._ports, record.id, uow.tenant_id, len(rows))
        scheduled = await ScheduledRows.load(uow, self._ports, account.id, [r for r, d in zip(rows, decisions,
                                             strict=True) if d.outcome is RowOutcome.NEW])  # fmt: skip
        links: list[tuple[ScheduledMatch, UUID]] = []
        versions: list[Transaction] = []  # every row written: a settled one before and after
        for done_rows, (row, fp, decision) in enumerate(zip(rows, prints, decisions, strict=True), start=1):
            await progress(done_rows)
            if decision.outcome is RowOutcome.DUPLICATE:
                duplicates += 1
                continue
            expected = await scheduled.match(row) if decision.outcome is RowOutcome.NEW else None
            if expected is not None and expected.posted is not None:  # the schedule posted it: it is this row
                changed, fields = _settled(expected.posted, row, RowOutcome.POSTS, now)
                await uow.transactions.update(changed)
                versions += (expected.posted, changed)
                record_updated(uow, self._ports, changed, fields)
                delta += changed.amount.minor - expected.posted.amount.minor
                updated += 1
                continue
            if decision.existing is not None:  # POSTS or RECONCILE: the stored one is updated
                changed, fields = _settled(decision.existing, row, decision.outcome, now)
                await uow.transactions.update(changed)
                versions += (decision.existing, changed)
                record_updated(uow, self._ports, changed, fields)
                delta += changed.amount.minor - decision.existing.amount.minor
                if decision.outcome is RowOutcome.POSTS:
                    updated += 1
                else:
                    duplicates += 1
                continue
            draft = Transaction(
                id=self._ports.ids.new_id(), tenant_id=uow.tenant_id, account_id=account.id,
                booked_on=row.booked_on, description=row.description,
                payee=row.payee or display_payee(row.description), amount=row.amount,
                splits=(Split(None, row.amount),), created_at=now, updated_at=now,
                status=TransactionStatus.PENDING if row.pending else TransactionStatus.POSTED,
                source=TransactionSource.IMPORT, external_id=row.external_id,
                fingerprint=None if fp in known_prints else fp,
                categorization=_UNCATEGORIZED, import_id=record.id,
            )  # fmt: skip
            outcome = await self._ports.categorizer.categorize(draft, rules, uow, known=categories)
            fresh.append(outcome.transaction)
            if expected is not None:  # due later: the posting job will find the date linked
                links.append((expected, draft.id))
        await uow.transactions.add_many(fresh)
        for expected_match, tx_id in links:
            await scheduled.link(expected_match, tx_id)
        await move_balance(uow, self._ports, account.id, delta + sum(t.amount.minor for t in fresh))
        versions += fresh
        if versions:  # the account's, categories' (and ancestors'), months' lists, ledger, balances
            await retire_transactions(uow, *versions)
        else:
            uow.retires()  # every row a duplicate: only the import's record changed
        done = replace(
            record,
            balance_check=await _balance_check(uow, account.id, statement),
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
        _announce(uow, self._ports, done)
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


_UNCATEGORIZED = Categorization.none()  # a draft's, until the categorizer decides (immutable: one for all)


def _categorized_text(row: StatementRow) -> str:
    """The text the categorizer reads for a new row (the draft's description, else its payee)."""
    return row.description or row.payee or display_payee(row.description)


async def _balance_check(uow: UnitOfWork, account_id: UUID, statement: ParsedStatement) -> BalanceCheck | None:
    """The statement's closing balance against the account's, both at the end of its day: the
    balance after the import, less what is booked later and what is pending among the
    transactions from the statement's first row on (the bank counts neither)."""
    closing = statement.closing_balance
    if closing is None:
        return None
    account = await require(uow.accounts.get, account_id, "account")
    start = min((r.booked_on for r in statement.rows), default=closing.as_of)
    # Summed by the store: the account's history is never read (its size is not the file's).
    excluded = await uow.transactions.sum_outside_balance(account_id, closing.as_of, min(start, closing.as_of))
    return BalanceCheck(closing.as_of, closing.amount, account.balance - Money(excluded, account.currency))


def _announce(uow: UnitOfWork, ports: Ports, record: StatementImport) -> None:
    """Record ``import.completed`` with the import's outcome."""
    uow.record(
        ports.event(
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
