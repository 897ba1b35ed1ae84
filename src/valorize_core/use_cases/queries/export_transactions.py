"""Queries: transactions (the list's filters) as CSV or OFX, and a report as CSV, streamed.

The export is validated and its first page read before anything is sent, so a bad filter or
an unknown account is a problem response, not a broken download. Then it reads the list one
page (:data:`~valorize_core.model.listing.MAX_PAGE_SIZE`) at a time, each in a unit of its own,
and yields each page's text: memory stays one page whatever the size of the export, and no
database connection is held while the client reads. The pages follow the list's keyset order,
so a transaction written during the export appears at most once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Literal
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.exports import (
    TRANSACTION_COLUMNS,
    csv_lines,
    ofx_footer,
    ofx_header,
    ofx_transactions,
    report_csv_rows,
    transaction_csv_row,
)
from valorize_core.model.listing import MAX_PAGE_SIZE
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require
from valorize_core.use_cases.queries.list_transactions import ListTransactions, TransactionPage, TransactionQuery
from valorize_core.use_cases.queries.reports import ReportQuery, RunReport

__all__ = ["ExportFormat", "ExportReport", "ExportTransactions", "TransactionExport"]

ExportFormat = Literal["csv", "ofx"]


@dataclass(frozen=True, slots=True)
class TransactionExport:
    """Which transactions (the list's filters; ``cursor`` and ``limit`` are ignored) and how:
    ``ofx`` is one account's statement, so it needs ``query.account_id``."""

    query: TransactionQuery
    format: ExportFormat = "csv"


class ExportTransactions:
    """Transactions as CSV (:data:`~valorize_core.model.exports.TRANSACTION_COLUMNS`) or OFX."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports
        self._list = ListTransactions(ports)

    async def __call__(self, command: TransactionExport) -> AsyncIterator[bytes]:
        """Validate and read the first page; returns the export's chunks.

        Raises:
            ValidationError: a bad filter or format, or OFX without an account.
            NotFound: the OFX export's account.
        """
        if command.format not in ("csv", "ofx"):
            raise ValidationError.for_field("format", "must be csv or ofx")
        query = replace(command.query, cursor=None, limit=MAX_PAGE_SIZE)
        async with self._ports.uow.reading(query.tenant_id) as uow:
            accounts = {a.id: a for a in await uow.accounts.list()}
            categories = {c.id: c.name for c in await uow.categories.list()}
            account = None
            if command.format == "ofx":
                if query.account_id is None:
                    raise ValidationError.for_field("account_id", "an OFX export is one account's: give account_id")
                account = await require(uow.accounts.get, query.account_id, "account")
        first = await self._list(query)
        if account is not None:
            now = self._ports.clock.now()
            head = ofx_header(account, now, query.date_from, query.date_to)
            foot = ofx_footer(account.balance, now)
            return self._chunks(query, first, head, lambda page: ofx_transactions(page.items), foot)
        names = {a.id: a.name for a in accounts.values()}
        return self._chunks(
            query,
            first,
            csv_lines([TRANSACTION_COLUMNS]),
            lambda page: csv_lines(transaction_csv_row(t, names, categories) for t in page.items),
            "",
        )

    async def _chunks(
        self,
        query: TransactionQuery,
        page: TransactionPage,
        head: str,
        body: Callable[[TransactionPage], str],
        foot: str,
    ) -> AsyncIterator[bytes]:
        yield head.encode("utf-8")
        while True:
            text = body(page)
            if text:
                yield text.encode("utf-8")
            if page.next_cursor is None:
                break
            page = await self._list(replace(query, cursor=page.next_cursor))
        if foot:
            yield foot.encode("utf-8")


class ExportReport:
    """A report's rows as CSV (money as amount and currency columns, categories named)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports
        self._report = RunReport(ports)

    async def __call__(self, query: ReportQuery) -> AsyncIterator[bytes]:
        """Compute the report (a bad query raises here); returns its CSV chunks."""
        report = await self._report(query)
        async with self._ports.uow.reading(query.tenant_id) as uow:
            categories: dict[UUID, str] = {c.id: c.name for c in await uow.categories.list()}
        rows = report_csv_rows(report.rows(), categories)
        return self._chunks(rows)

    @staticmethod
    async def _chunks(rows: list[list[str]]) -> AsyncIterator[bytes]:
        for start in range(0, max(len(rows), 1), 1000):
            yield csv_lines(rows[start : start + 1000]).encode("utf-8")
