"""Exports: transactions as CSV or OFX and reports as CSV, streamed a page at a time."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from litestar import Controller, get
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Stream

from valorize_core.model.listing import MAX_FILTER_TAGS
from valorize_core.use_cases.queries.export_transactions import TransactionExport
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_core.use_cases.queries.reports import ReportQuery
from valorize_entrypoints.api.deps import VZ, Reader
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

    @get("/transactions", responses=ERRORS, media_type=_MEDIA["csv"],
         summary="Transactions (the list's filters) as CSV")  # fmt: skip
    async def transactions_csv(
        self,
        vz: VZ,
        actor: Reader,
        account_id: FromQuery[UUID | None] = None,
        category_id: Annotated[UUID | None, QueryParameter(description="includes subcategories")] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200, description="words starting words")] = None,
        amount_min: Annotated[str | None, QueryParameter(max_length=40)] = None,
        amount_max: Annotated[str | None, QueryParameter(max_length=40)] = None,
        uncategorized: FromQuery[bool] = False,
        import_id: FromQuery[UUID | None] = None,
        tag: Annotated[
            list[str] | None,
            QueryParameter(max_items=MAX_FILTER_TAGS, description="repeatable: ?tag=trip&tag=work"),
        ] = None,
        tag_match: Annotated[
            Literal["any", "all"], QueryParameter(description="carries any of the tags, or all of them")
        ] = "any",
    ) -> Stream:
        query = TransactionQuery(
            actor.tenant_id, account_id, category_id, date_from, date_to, q, amount_min, amount_max, uncategorized,
            import_id, tags=tuple(tag or ()), tag_match=tag_match,
        )  # fmt: skip
        return await _export(vz, query, "csv")

    @get("/transactions/ofx", responses=ERRORS, media_type=_MEDIA["ofx"],
         summary="One account's transactions (the list's filters) as an OFX statement")  # fmt: skip
    async def transactions_ofx(
        self,
        vz: VZ,
        actor: Reader,
        account_id: FromQuery[UUID],
        category_id: Annotated[UUID | None, QueryParameter(description="includes subcategories")] = None,
        date_from: FromQuery[date | None] = None,
        date_to: FromQuery[date | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200, description="words starting words")] = None,
        amount_min: Annotated[str | None, QueryParameter(max_length=40)] = None,
        amount_max: Annotated[str | None, QueryParameter(max_length=40)] = None,
        uncategorized: FromQuery[bool] = False,
        import_id: FromQuery[UUID | None] = None,
        tag: Annotated[
            list[str] | None,
            QueryParameter(max_items=MAX_FILTER_TAGS, description="repeatable: ?tag=trip&tag=work"),
        ] = None,
        tag_match: Annotated[
            Literal["any", "all"], QueryParameter(description="carries any of the tags, or all of them")
        ] = "any",
    ) -> Stream:
        query = TransactionQuery(
            actor.tenant_id, account_id, category_id, date_from, date_to, q, amount_min, amount_max, uncategorized,
            import_id, tags=tuple(tag or ()), tag_match=tag_match,
        )  # fmt: skip
        return await _export(vz, query, "ofx")

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
