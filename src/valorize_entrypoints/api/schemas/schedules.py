"""Schedules (recurring transactions) and the cash-flow forecast."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct

from valorize_core.model.forecast import AccountForecast, CategoryEstimate, ForecastDay
from valorize_core.model.money import Money, currency
from valorize_core.model.schedules import Schedule, ScheduleOccurrence
from valorize_core.model.subscriptions import FoundSubscription, TrackedSubscription
from valorize_core.use_cases.queries.forecast import Forecast, ForecastTotal
from valorize_core.use_cases.queries.list_schedules import ScheduleDetail
from valorize_entrypoints.api.schemas.common import (
    TEXT_PATTERN,
    Amount,
    Day,
    MoneyOut,
    Name,
    Payee,
    PositiveAmount,
    Tag,
    money,
)
from valorize_entrypoints.api.schemas.transactions import SplitIn, SplitOut

__all__ = [
    "AlertIn",
    "AlertOut",
    "ConfirmedOut",
    "ForecastOut",
    "FoundSubscriptionOut",
    "ScheduleDetailOut",
    "ScheduleIn",
    "ScheduleOut",
    "SchedulePatch",
    "TrackedSubscriptionOut",
    "forecast",
    "found_subscription",
    "schedule",
    "schedule_detail",
    "tracked_subscription",
]

Rrule = Annotated[
    str, Meta(min_length=1, max_length=500, pattern=TEXT_PATTERN, examples=["FREQ=MONTHLY;BYMONTHDAY=5"],
              description="An RFC 5545 RRULE (FREQ DAILY/WEEKLY/MONTHLY/YEARLY, INTERVAL, COUNT, UNTIL, BYDAY, "
                          "BYMONTHDAY, BYMONTH, BYSETPOS, WKST); day 29-31 and 29 February fall on the month's end"),
]  # fmt: skip
Window = Annotated[int, Meta(ge=0, le=15)]


class ScheduleIn(Struct, forbid_unknown_fields=True):
    account_id: UUID
    name: Name
    amount: Amount
    rule: Rrule
    starts_on: Day
    payee: Payee | None = None
    splits: Annotated[list[SplitIn], Meta(max_length=100)] = []
    category_id: UUID | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []
    tolerance: PositiveAmount | None = None
    window_days: Window = 3


class SchedulePatch(Struct, forbid_unknown_fields=True):
    """Fields to change; a new ``rule`` restarts ``next_due`` after the last handled date."""

    name: Name | None = None
    amount: Amount | None = None
    tolerance: PositiveAmount | None = None
    rule: Rrule | None = None
    active: bool | None = None
    window_days: Window | None = None


class ScheduleOut(Struct):
    id: UUID
    account_id: UUID
    name: str
    payee: str
    amount: MoneyOut
    tolerance: MoneyOut
    splits: list[SplitOut]
    category_id: UUID | None
    tags: list[str]
    rule: str
    starts_on: date
    next_due: date | None
    window_days: int
    active: bool
    created_at: datetime
    updated_at: datetime


def schedule(x: Schedule) -> ScheduleOut:
    tolerance = x.tolerance if x.tolerance is not None else Money.zero(x.amount.currency)
    return ScheduleOut(
        x.id, x.account_id, x.name, x.payee, money(x.amount), money(tolerance),
        [SplitOut(sp.category_id, money(sp.amount), sp.memo) for sp in x.splits], x.category_id, list(x.tags),
        x.rule, x.starts_on, x.next_due, x.window_days, x.active, x.created_at, x.updated_at,
    )  # fmt: skip


class OccurrenceOut(Struct):
    due_on: date
    transaction_id: UUID
    handling: str


class ScheduleDetailOut(Struct):
    schedule: ScheduleOut
    upcoming: list[date]
    handled: list[OccurrenceOut]


def _occurrence(o: ScheduleOccurrence) -> OccurrenceOut:
    return OccurrenceOut(o.due_on, o.transaction_id, o.handling.value)


def schedule_detail(d: ScheduleDetail) -> ScheduleDetailOut:
    return ScheduleDetailOut(schedule(d.schedule), list(d.upcoming), [_occurrence(o) for o in d.handled])


class ForecastDayOut(Struct):
    day: date
    balance: str
    estimated: str | None = None


class AccountForecastOut(Struct):
    account_id: UUID
    currency: str
    lowest: MoneyOut
    lowest_on: date
    below_threshold_on: date | None
    threshold: MoneyOut
    days: list[ForecastDayOut]


class TotalForecastOut(Struct):
    currency: str
    lowest: MoneyOut
    lowest_on: date
    days: list[ForecastDayOut]


class EstimateOut(Struct):
    account_id: UUID
    category_id: UUID | None
    spent: MoneyOut
    over_days: int


class ForecastOut(Struct):
    today: date
    days: int
    estimate: bool
    accounts: list[AccountForecastOut]
    totals: list[TotalForecastOut]
    estimates: list[EstimateOut]


def _decimal(minor: int, code: str) -> str:
    return Money(minor, currency(code)).to_decimal_string()


def _days(days: tuple[ForecastDay, ...], code: str) -> list[ForecastDayOut]:
    return [
        ForecastDayOut(d.on, _decimal(d.balance_minor, code),
                       None if d.estimated_minor is None else _decimal(d.estimated_minor, code))
        for d in days
    ]  # fmt: skip


def _account(a: AccountForecast) -> AccountForecastOut:
    cur = currency(a.currency)
    return AccountForecastOut(
        a.account_id, a.currency, money(Money(a.lowest_minor, cur)), a.lowest_on, a.below_on,
        money(Money(a.threshold_minor, cur)), _days(a.days, a.currency),
    )  # fmt: skip


def _total(t: ForecastTotal) -> TotalForecastOut:
    return TotalForecastOut(t.currency, money(Money(t.lowest_minor, currency(t.currency))), t.lowest_on,
                            _days(t.days, t.currency))  # fmt: skip


def _estimate(e: CategoryEstimate, codes: dict[UUID, str]) -> EstimateOut:
    return EstimateOut(e.account_id, e.category_id, money(Money(e.total_minor, currency(codes[e.account_id]))),
                       e.span_days)  # fmt: skip


def forecast(f: Forecast, estimate: bool) -> ForecastOut:
    codes = {a.account_id: a.currency for a in f.accounts}
    return ForecastOut(
        f.today, f.days, estimate, [_account(a) for a in f.accounts], [_total(t) for t in f.totals],
        [_estimate(e, codes) for e in f.estimates if e.account_id in codes],
    )  # fmt: skip


class ChargeOut(Struct):
    day: date
    amount: MoneyOut
    transaction_id: UUID


class FoundSubscriptionOut(Struct):
    id: UUID
    account_id: UUID
    payee: str
    cadence: str
    amount: MoneyOut
    typical: MoneyOut
    next_expected: date
    confidence: str
    evidence: list[ChargeOut]


def found_subscription(f: FoundSubscription) -> FoundSubscriptionOut:
    return FoundSubscriptionOut(
        f.id, f.account_id, f.payee, f.cadence.value, money(f.amount), money(f.typical), f.next_expected,
        str(f.confidence), [ChargeOut(c.on, money(c.amount), c.transaction_id) for c in f.evidence],
    )  # fmt: skip


class TrackedSubscriptionOut(Struct):
    id: UUID
    account_id: UUID
    payee: str
    cadence: str
    amount: MoneyOut
    status: str
    last_charged: date
    decided_at: datetime
    schedule_id: UUID | None
    stopped_on: date | None


def tracked_subscription(t: TrackedSubscription) -> TrackedSubscriptionOut:
    return TrackedSubscriptionOut(
        t.id, t.account_id, t.payee, t.cadence.value, money(t.amount), t.status.value, t.last_charged,
        t.decided_at, t.schedule_id, t.stopped_on,
    )  # fmt: skip


class ConfirmedOut(Struct):
    subscription: TrackedSubscriptionOut
    schedule: ScheduleOut


class AlertIn(Struct, forbid_unknown_fields=True):
    threshold: Amount
    days: Annotated[int, Meta(ge=1, le=366)] = 30


class AlertOut(Struct):
    account_id: UUID
    threshold_minor: int
    days: int
