"""Reports: read at once (cached) or generated in the background."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.params import JSONBody as Body

from valorize_core.use_cases.actions.request_job import JobRequest
from valorize_core.use_cases.queries.reports import ReportQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.caching import cached_read, cached_response
from valorize_entrypoints.api.controllers.jobs import job_accepted
from valorize_entrypoints.api.deps import RT, VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS


class ReportController(Controller):
    path = "/api/reports"
    tags = ("reports",)

    @get(
        "/{kind:str}",
        responses=ERRORS,
        summary="spend_by_category, income_vs_expense, cash_flow or net_worth",
        opt=cached_read("report"),
    )
    async def report(
        self,
        request: Request[Any, Any, Any],
        kind: FromPath[s.ReportKind],
        vz: VZ,
        actor: Reader,
        runtime: RT,
        start: FromQuery[date],
        end: FromQuery[date],
        currency: Annotated[
            s.CurrencyCode | None, QueryParameter(description="also convert into this currency (rates listed)")
        ] = None,
    ) -> Response[s.ReportOut]:
        async def compute() -> s.ReportOut:
            return s.report(await vz.report(ReportQuery(actor.tenant_id, kind, start, end, currency)))

        return await cached_response(request, runtime, actor, compute)

    @post(responses=ERRORS, status_code=202, summary="Generate a report in the background (follow the job)")
    async def request_report(self, data: Body[s.ReportJobIn], vz: VZ, writer: Writer) -> Response[s.JobOut]:
        params = {"kind": data.kind, "start": data.start.isoformat(), "end": data.end.isoformat()}
        return job_accepted(await vz.request_job(JobRequest(writer.tenant_id, "generate_report", params)))
