"""Schedules (recurring transactions), the cash-flow forecast and subscriptions found in the history."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.params import JSONBody as Body

from valorize_core.model.forecast import MAX_FORECAST_DAYS
from valorize_core.use_cases.actions.change_schedule import ScheduleChange, ScheduleDeletion
from valorize_core.use_cases.actions.check_balances import AlertInput, AlertRemoval
from valorize_core.use_cases.actions.create_schedule import NewSchedule
from valorize_core.use_cases.actions.create_transaction import SplitInput
from valorize_core.use_cases.actions.decide_subscription import SubscriptionDecision
from valorize_core.use_cases.queries.forecast import AlertsQuery, ForecastQuery
from valorize_core.use_cases.queries.list_schedules import ScheduleQuery, SchedulesQuery
from valorize_core.use_cases.queries.subscriptions import FoundSubscriptionsQuery
from valorize_entrypoints.api.deps import VZ, Reader, Writer
from valorize_entrypoints.api.responses import ERRORS
from valorize_entrypoints.api.schemas import schedules as sc
from valorize_entrypoints.api.schemas.common import Amount


class ScheduleController(Controller):
    path = "/api/schedules"
    tags = ("schedules",)

    @get(responses=ERRORS, summary="Schedules (recurring transactions)")
    async def list_schedules(self, vz: VZ, actor: Reader) -> list[sc.ScheduleOut]:
        return [sc.schedule(x) for x in await vz.list_schedules(SchedulesQuery(actor.tenant_id))]

    @post(responses=ERRORS, status_code=201, summary="Create a schedule from an RFC 5545 RRULE")
    async def create_schedule(self, data: Body[sc.ScheduleIn], vz: VZ, writer: Writer) -> sc.ScheduleOut:
        command = NewSchedule(
            writer.tenant_id, data.account_id, data.name, data.amount, data.rule, data.starts_on, data.payee,
            tuple(SplitInput(x.amount, x.category_id, x.memo) for x in data.splits), data.category_id,
            tuple(data.tags), data.tolerance or "0", data.window_days,
        )  # fmt: skip
        return sc.schedule(await vz.create_schedule(command))

    @get("/{schedule_id:uuid}", responses=ERRORS, summary="A schedule, its next dates and handled occurrences")
    async def get_schedule(self, schedule_id: FromPath[UUID], vz: VZ, actor: Reader) -> sc.ScheduleDetailOut:
        return sc.schedule_detail(await vz.get_schedule(ScheduleQuery(actor.tenant_id, schedule_id)))

    @patch("/{schedule_id:uuid}", responses=ERRORS, summary="Pause, resume, re-price or re-time a schedule")
    async def change_schedule(
        self, schedule_id: FromPath[UUID], data: Body[sc.SchedulePatch], vz: VZ, writer: Writer
    ) -> sc.ScheduleOut:
        change = ScheduleChange(writer.tenant_id, schedule_id, data.name, data.amount, data.tolerance, data.rule,
                                data.active, data.window_days)  # fmt: skip
        return sc.schedule(await vz.change_schedule(change))

    @delete("/{schedule_id:uuid}", responses=ERRORS, summary="Delete a schedule (its transactions stay)")
    async def delete_schedule(self, schedule_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.delete_schedule(ScheduleDeletion(writer.tenant_id, schedule_id))


class ForecastController(Controller):
    path = "/api/forecast"
    tags = ("schedules",)

    @get(responses=ERRORS, summary="Projected balances per account and in total, day by day")
    async def forecast(
        self,
        vz: VZ,
        actor: Reader,
        days: Annotated[int, QueryParameter(ge=1, le=MAX_FORECAST_DAYS)] = 30,
        estimate: FromQuery[bool] = False,
        threshold: Annotated[Amount, QueryParameter(description="flag the first day below it")] = "0",
    ) -> sc.ForecastOut:
        found = await vz.forecast(ForecastQuery(actor.tenant_id, days, estimate, threshold))
        return sc.forecast(found, estimate)

    @get("/alerts", responses=ERRORS, summary="Low-balance alerts set (others: below zero within 30 days)")
    async def alerts(self, vz: VZ, actor: Reader) -> list[sc.AlertOut]:
        found = await vz.list_balance_alerts(AlertsQuery(actor.tenant_id))
        return [sc.AlertOut(a.account_id, a.threshold_minor, a.days) for a in found]

    @put("/alerts/{account_id:uuid}", responses=ERRORS, summary="Warn when an account is projected below a threshold")
    async def set_alert(
        self, account_id: FromPath[UUID], data: Body[sc.AlertIn], vz: VZ, writer: Writer
    ) -> sc.AlertOut:
        a = await vz.set_balance_alert(AlertInput(writer.tenant_id, account_id, data.threshold, data.days))
        return sc.AlertOut(a.account_id, a.threshold_minor, a.days)

    @delete("/alerts/{account_id:uuid}", responses=ERRORS, summary="Back to the default alert (below zero)")
    async def remove_alert(self, account_id: FromPath[UUID], vz: VZ, writer: Writer) -> None:
        await vz.remove_balance_alert(AlertRemoval(writer.tenant_id, account_id))


class SubscriptionController(Controller):
    path = "/api/subscriptions"
    tags = ("schedules",)

    @get(responses=ERRORS, summary="Subscriptions found in the history, not yet confirmed or dismissed")
    async def found(self, vz: VZ, actor: Reader) -> list[sc.FoundSubscriptionOut]:
        return [sc.found_subscription(f) for f in await vz.find_subscriptions(FoundSubscriptionsQuery(actor.tenant_id))]

    @get("/decided", responses=ERRORS, summary="Confirmed and dismissed subscriptions")
    async def decided(self, vz: VZ, actor: Reader) -> list[sc.TrackedSubscriptionOut]:
        found = await vz.list_tracked_subscriptions(FoundSubscriptionsQuery(actor.tenant_id))
        return [sc.tracked_subscription(t) for t in found]

    @post("/{subscription_id:uuid}/confirm", responses=ERRORS, status_code=201,
          summary="Confirm a found subscription: a schedule posts it from its next charge")  # fmt: skip
    async def confirm(self, subscription_id: FromPath[UUID], vz: VZ, writer: Writer) -> sc.ConfirmedOut:
        tracked, schedule = await vz.confirm_subscription(SubscriptionDecision(writer.tenant_id, subscription_id))
        return sc.ConfirmedOut(sc.tracked_subscription(tracked), sc.schedule(schedule))

    @post("/{subscription_id:uuid}/dismiss", responses=ERRORS, status_code=200,
          summary="Dismiss a found subscription (it is not proposed again)")  # fmt: skip
    async def dismiss(self, subscription_id: FromPath[UUID], vz: VZ, writer: Writer) -> sc.TrackedSubscriptionOut:
        return sc.tracked_subscription(
            await vz.dismiss_subscription(SubscriptionDecision(writer.tenant_id, subscription_id))
        )
