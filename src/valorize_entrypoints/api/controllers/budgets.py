"""Budgets and where they stand."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery
from litestar.params import JSONBody as Body

from valorize_core.use_cases.actions.delete_budget import BudgetDeletion
from valorize_core.use_cases.actions.set_budget import BudgetInput
from valorize_core.use_cases.queries.budget_status import BudgetStatusQuery
from valorize_core.use_cases.queries.list_budgets import BudgetsQuery
from valorize_entrypoints.api import schemas as s
from valorize_entrypoints.api.caching import BUDGET_STATUS_SCOPES, cached_json
from valorize_entrypoints.api.deps import RT, VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS


class BudgetController(Controller):
    path = "/api/budgets"
    tags = ("budgets",)

    @get(responses=ERRORS, summary="Budgets")
    async def list_budgets(self, vz: VZ, actor: Reader) -> list[s.BudgetOut]:
        return [s.budget(b) for b in await vz.list_budgets(BudgetsQuery(actor.tenant_id))]

    @post(responses=ERRORS, status_code=201, summary="Create a budget for an expense category")
    async def create_budget(self, data: Body[s.BudgetIn], vz: VZ, writer: Writer) -> s.BudgetOut:
        return s.budget(await vz.set_budget(_budget_input(writer, data, None)))

    @patch("/{budget_id:uuid}", responses=ERRORS, summary="Replace a budget's settings")
    async def update_budget(
        self, budget_id: FromPath[UUID], data: Body[s.BudgetIn], vz: VZ, writer: Writer
    ) -> s.BudgetOut:
        return s.budget(await vz.set_budget(_budget_input(writer, data, budget_id)))

    @delete("/{budget_id:uuid}", responses=ERRORS, summary="Delete a budget")
    async def delete_budget(self, budget_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_budget(BudgetDeletion(writer.tenant_id, budget_id))

    @get("/status", responses=ERRORS, summary="Every budget in the period containing a day")
    async def budget_status(
        self, request: Request[Any, Any, Any], vz: VZ, actor: Reader, runtime: RT, day: FromQuery[date | None] = None
    ) -> Response[list[s.BudgetStatusOut]]:
        query = BudgetStatusQuery(actor.tenant_id, day or vz.ports.clock.today())

        async def compute() -> list[s.BudgetStatusOut]:
            return [s.budget_status(x) for x in await vz.budget_status(query)]

        # Not keyed by the request: without ``day`` the answer depends on today's date.
        return await cached_json(
            runtime,
            actor,
            "budget_status",
            query.day.isoformat(),
            compute,
            scopes=BUDGET_STATUS_SCOPES,
            request=request,
        )

    @get("/{budget_id:uuid}/status", responses=ERRORS, summary="One budget in the period containing a day")
    async def one_status(
        self, budget_id: FromPath[UUID], vz: VZ, actor: Reader, day: FromQuery[date | None] = None
    ) -> s.BudgetStatusOut:
        query = BudgetStatusQuery(actor.tenant_id, day or vz.ports.clock.today(), budget_id)
        return s.budget_status((await vz.budget_status(query))[0])


def _budget_input(actor: Reader, data: Body[s.BudgetIn], budget_id: UUID | None) -> BudgetInput:
    return BudgetInput(
        actor.tenant_id,
        data.category_id,
        data.limit,
        data.currency,
        data.period,
        data.rollover,
        data.starts_on,
        tuple(data.thresholds),
        budget_id,
    )
