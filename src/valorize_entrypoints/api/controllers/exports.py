"""Exports: transactions as CSV or OFX and reports as CSV, streamed a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from litestar import Controller, get
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery
from litestar.response import Stream

from valorize_core.use_cases.queries.export_transactions import TransactionExport
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_core.use_cases.queries.reports import ReportQuery
from valorize_entrypoints.api.deps import VZ, Reader
from valorize_entrypoints.api.filters import FILTERS, Filters
from valorize_entrypoints.api.responses import ERRORS

_MEDIA = {"csv": "text/csv; charset=utf-8", "ofx": "application/x-ofx"}


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


async def _export(vz: Any, query: TransactionQuery, fmt: Literal["csv", "ofx"]) -> Stream:
    chunks = await vz.export_transactions(TransactionExport(query, fmt))
    return Stream(chunks, media_type=_MEDIA[fmt], headers=_download(f"transactions.{fmt}"))


class ExportController(Controller):
    path = "/api/exports"
    tags = ("exports",)

    @get("/transactions", responses=ERRORS, media_type=_MEDIA["csv"], dependencies=FILTERS,
         summary="Transactions (the list's filters) as CSV")  # fmt: skip
    async def transactions_csv(self, vz: VZ, filters: Filters) -> Stream:
        return await _export(vz, filters, "csv")

    @get("/transactions/ofx", responses=ERRORS, media_type=_MEDIA["ofx"], dependencies=FILTERS,
         summary="One account's transactions (the list's filters, account_id required) as OFX")  # fmt: skip
    async def transactions_ofx(self, vz: VZ, filters: Filters) -> Stream:
        if filters.account_id is None:
            raise ValidationException(
                "an OFX statement is one account's: account_id is required",
                extra=[{"key": "query.account_id", "message": "required"}],
            )
        return await _export(vz, filters, "ofx")

    @get("/reports/{kind:str}", responses=ERRORS, media_type=_MEDIA["csv"], summary="A report's rows as CSV")
    async def report(
        self,
        kind: FromPath[Literal["spend_by_category", "income_vs_expense", "cash_flow", "net_worth"]],
        vz: VZ,
        actor: Reader,
        start: FromQuery[date],
        end: FromQuery[date],
    ) -> Stream:
        chunks = await vz.export_report(ReportQuery(actor.tenant_id, kind, start, end))
        return Stream(chunks, media_type=_MEDIA["csv"], headers=_download(f"{kind}_{start}_{end}.csv"))
