import uuid
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valorize_core.model.budgets import (
    Budget,
    BudgetPeriod,
    Rollover,
    budget_status,
    budget_statuses,
    crossed_thresholds,
    next_period_start,
    period_start,
)
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money

NOW = datetime(2026, 1, 1, tzinfo=UTC)
spends = st.lists(st.integers(-50_000, 300_000), min_size=1, max_size=24)


def budget(rollover: Rollover, limit: int = 100_000, period: BudgetPeriod = BudgetPeriod.MONTH) -> Budget:
    return Budget(
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), period, Money(limit, "BRL"), rollover, date(2025, 1, 15), NOW
    )


def spent_map(b: Budget, amounts: list[int]) -> dict[date, Money]:
    out, start = {}, b.starts_on
    for a in amounts:
        out[start] = Money(a, "BRL")
        start = next_period_start(b.period, start)
    return out


def last_day(b: Budget, n: int) -> date:
    start = b.starts_on
    for _ in range(n - 1):
        start = next_period_start(b.period, start)
    return start


@given(spends)
def test_reset_never_carries(amounts: list[int]) -> None:
    b = budget(Rollover.RESET)
    for status, spent in zip(
        budget_statuses(b, spent_map(b, amounts), last_day(b, len(amounts))), amounts, strict=True
    ):
        assert status.carried_in.minor == 0
        assert status.remaining.minor == 100_000 - spent


@given(spends)
def test_carry_unspent_and_overspent_closed_form(amounts: list[int]) -> None:
    b = budget(Rollover.CARRY_UNSPENT_AND_OVERSPENT)
    statuses = budget_statuses(b, spent_map(b, amounts), last_day(b, len(amounts)))
    for n, status in enumerate(statuses):
        assert status.carried_in.minor == n * 100_000 - sum(amounts[:n])
        assert status.remaining.minor == (n + 1) * 100_000 - sum(amounts[: n + 1])


@given(spends)
def test_carry_unspent_forgives_overspending(amounts: list[int]) -> None:
    b = budget(Rollover.CARRY_UNSPENT)
    statuses = budget_statuses(b, spent_map(b, amounts), last_day(b, len(amounts)))
    carried = 0
    for status, spent in zip(statuses, amounts, strict=True):
        assert status.carried_in.minor == carried >= 0
        carried = max(0, 100_000 + carried - spent)
    full = budget_statuses(
        budget(Rollover.CARRY_UNSPENT_AND_OVERSPENT), spent_map(b, amounts), last_day(b, len(amounts))
    )
    assert all(u.carried_in.minor >= f.carried_in.minor for u, f in zip(statuses, full, strict=True))


@given(st.integers(0, 400_000), st.sampled_from([50, 80, 100, 150]))
def test_threshold_reached_iff_spent_crosses_percentage(spent: int, threshold: int) -> None:
    b = budget(Rollover.RESET)
    status = budget_status(b, {b.starts_on: Money(spent, "BRL")}, b.starts_on)
    assert status.reached(threshold) == (spent * 100 >= threshold * 100_000)
    crossed = crossed_thresholds(status, [50, 80, 100, 150], [])
    assert crossed == sorted(t for t in [50, 80, 100, 150] if spent * 100 >= t * 100_000)
    assert crossed_thresholds(status, [50, 80, 100, 150], crossed) == []


def test_percent_is_exact_decimal() -> None:
    b = budget(Rollover.RESET, limit=30_000)
    status = budget_status(b, {b.starts_on: Money(10_000, "BRL")}, b.starts_on)
    assert str(status.percent) == "33.33"


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)), st.sampled_from(list(BudgetPeriod)))
def test_periods_tile_the_calendar(day: date, period: BudgetPeriod) -> None:
    start = period_start(period, day)
    assert start <= day < next_period_start(period, start)
    assert period_start(period, next_period_start(period, start)) == next_period_start(period, start)


def test_status_before_start_is_zero_and_start_is_normalized() -> None:
    b = budget(Rollover.RESET)
    assert b.starts_on == date(2025, 1, 1)
    status = budget_status(b, {}, date(2024, 6, 1))
    assert status.budgeted.minor == 0
    assert status.spent.minor == 0


@pytest.mark.parametrize(
    "changes",
    [
        {"limit": Money(0, "BRL")},
        {"limit": Money(-5, "BRL")},
        {"period": "fortnight"},
        {"rollover": "maybe"},
        {"thresholds": ()},
        {"thresholds": (0,)},
    ],
)
def test_invalid_budgets_are_rejected(changes: dict[str, object]) -> None:
    args: dict[str, object] = {"id": uuid.uuid4(), "tenant_id": uuid.uuid4(), "category_id": uuid.uuid4()}
    args |= {"period": "month", "limit": Money(100, "BRL"), "rollover": "reset"}
    args |= {"starts_on": date(2026, 1, 1), "created_at": NOW}
    args.update(changes)
    with pytest.raises(ValidationError):
        Budget(**args)  # type: ignore[arg-type]
