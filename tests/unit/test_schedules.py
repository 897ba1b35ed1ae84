"""Schedules through the use cases (in memory): creating, posting once, the forecast by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from world import World, run

from valorize_adapters.recurrence.rrule import DateutilRecurrence
from valorize_core import ForecastQuery, NewSchedule, NewTransaction, NewTransfer, SchedulePosting, Valorize
from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.notifications import notification_for
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.model.transactions import TransactionSource
from valorize_core.use_cases.actions.change_schedule import ScheduleChange, ScheduleDeletion
from valorize_core.use_cases.actions.check_balances import AlertInput, AlertRemoval, BalanceCheck
from valorize_core.use_cases.actions.import_statement import StatementUpload
from valorize_core.use_cases.queries.forecast import AlertsQuery
from valorize_core.use_cases.queries.list_schedules import ScheduleQuery, SchedulesQuery

# The world's clock: 2026-01-01 12:00 UTC. Checking 1000.00 BRL, Savings 5000.00 BRL, Card 0 USD.


def seed_schedules(w: World) -> dict[str, object]:
    t = w.tenant
    return {
        "rent": run(w.vz.create_schedule(NewSchedule(t, w.checking, "Rent", "-1500.00", "FREQ=MONTHLY;BYMONTHDAY=5",
                                                     date(2026, 1, 5), category_id=w.home))),
        "salary": run(w.vz.create_schedule(NewSchedule(t, w.checking, "ACME payroll", "3000.00",
                                                       "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
                                                       date(2026, 1, 1), category_id=w.salary))),
        "netflix": run(w.vz.create_schedule(NewSchedule(t, w.card_usd, "Netflix", "-15.99", "FREQ=MONTHLY",
                                                        date(2026, 1, 31)))),
        "saving": run(w.vz.create_schedule(NewSchedule(t, w.savings, "Saving", "100.00", "FREQ=WEEKLY;BYDAY=MO",
                                                       date(2026, 1, 5)))),
    }  # fmt: skip


def test_a_schedule_is_stored_with_its_normalized_rule_and_first_due_date(world: World) -> None:
    s = seed_schedules(world)
    netflix = s["netflix"]
    assert netflix.rule == "FREQ=MONTHLY;BYMONTHDAY=28,29,30,31;BYSETPOS=-1"  # type: ignore[attr-defined]
    assert netflix.next_due == date(2026, 1, 31)  # type: ignore[attr-defined]
    detail = run(world.vz.get_schedule(ScheduleQuery(world.tenant, netflix.id)))  # type: ignore[attr-defined]
    assert detail.upcoming[:3] == (date(2026, 1, 31), date(2026, 2, 28), date(2026, 3, 31))
    assert [x.name for x in run(world.vz.list_schedules(SchedulesQuery(world.tenant)))] == [
        "ACME payroll", "Netflix", "Rent", "Saving"
    ]  # fmt: skip


def test_bad_schedules_change_nothing(world: World) -> None:
    t = world.tenant
    for bad in (
        NewSchedule(t, world.checking, "Rent", "-1500.00", "FREQ=HOURLY", date(2026, 1, 5)),
        NewSchedule(t, world.checking, "Rent", "-1500.00", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", date(2026, 1, 5)),
        NewSchedule(t, world.checking, "Rent", "0", "FREQ=MONTHLY", date(2026, 1, 5)),
        NewSchedule(t, world.checking, "Rent", "-1.00", "FREQ=MONTHLY", date(2026, 1, 5), window_days=99),
        NewSchedule(t, world.checking, "", "-1.00", "FREQ=MONTHLY", date(2026, 1, 5)),
    ):
        world.fails_cleanly(world.vz.create_schedule(bad), ValidationError)
    world.fails_cleanly(
        world.vz.create_schedule(NewSchedule(t, world.tenant, "Rent", "-1.00", "FREQ=MONTHLY", date(2026, 1, 5))),
        NotFound,
    )


def test_due_occurrences_post_once_however_often_the_job_runs(world: World) -> None:
    s = seed_schedules(world)
    world.clock.set(datetime(2026, 2, 10, 6, tzinfo=UTC))
    posted = run(world.vz.post_schedules(SchedulePosting(world.tenant, date(2026, 2, 10))))
    # rent Jan 5 and Feb 5, payroll Jan 30, Netflix Jan 31, saving 6 Mondays (Jan 5 .. Feb 9)
    assert len(posted) == 2 + 1 + 1 + 6
    assert all(tx.source is TransactionSource.RECURRING for tx in posted)
    again = run(world.vz.post_schedules(SchedulePosting(world.tenant, date(2026, 2, 10))))
    assert again == []
    data = world.backend.store.data(world.tenant)
    assert len(data.transactions) == 10
    # 1000.00 - 2 x 1500.00 + 3000.00; the balance moved with each posting, once
    assert data.accounts[world.checking].balance.minor == 100_000
    rent = run(world.vz.get_schedule(ScheduleQuery(world.tenant, s["rent"].id)))  # type: ignore[attr-defined]
    assert [o.due_on for o in rent.handled] == [date(2026, 1, 5), date(2026, 2, 5)]
    assert rent.schedule.next_due == date(2026, 3, 5)


def test_forecast_matches_a_hand_computation(world: World) -> None:
    seed_schedules(world)
    f = run(world.vz.forecast(ForecastQuery(world.tenant, days=45)))
    assert f.today == date(2026, 1, 1)
    assert len(f.accounts[0].days) == 46
    by = {a.account_id: a for a in f.accounts}
    checking, savings, card = by[world.checking], by[world.savings], by[world.card_usd]
    day = {d.on: d.balance_minor for d in checking.days}
    # 1000.00; Jan 5 rent -1500.00 -> -500.00; Jan 30 payroll +3000.00 -> 2500.00; Feb 5 rent -> 1000.00
    assert day[date(2026, 1, 4)] == 100_000
    assert day[date(2026, 1, 5)] == -50_000
    assert day[date(2026, 1, 29)] == -50_000
    assert day[date(2026, 1, 30)] == 250_000
    assert day[date(2026, 2, 5)] == 100_000
    assert day[date(2026, 2, 15)] == 100_000
    assert (checking.lowest_minor, checking.lowest_on, checking.below_on) == (
        -50_000,
        date(2026, 1, 5),
        date(2026, 1, 5),
    )
    # Savings: 5000.00 + 100.00 every Monday: Jan 5, 12, 19, 26, Feb 2, 9
    assert savings.days[-1].balance_minor == 560_000
    assert (savings.lowest_minor, savings.lowest_on, savings.below_on) == (500_000, date(2026, 1, 1), None)
    # Card (USD): Netflix on Jan 31 (the month's end); Feb 28 is past the window
    assert (card.lowest_minor, card.lowest_on, card.days[-1].balance_minor) == (-1599, date(2026, 1, 31), -1599)
    totals = {t.currency: t for t in f.totals}
    assert set(totals) == {"BRL", "USD"}
    brl = totals["BRL"]
    # Jan 1: 6000.00; Jan 5: -1500 + 100 -> 4600.00 (the lowest); Feb 15: 1000.00 + 5600.00
    assert (brl.lowest_minor, brl.lowest_on) == (460_000, date(2026, 1, 5))
    assert brl.days[0].balance_minor == 600_000
    assert brl.days[-1].balance_minor == 660_000


def test_forecast_threshold_and_estimate(world: World) -> None:
    t = world.tenant
    for day in (date(2025, 11, 10), date(2025, 12, 1), date(2025, 12, 20)):
        run(world.vz.create_transaction(NewTransaction(t, world.savings, day, "MERCADO", "-90.00",
                                                       category_id=world.groceries)))  # fmt: skip
    run(world.vz.create_transfer(NewTransfer(t, world.savings, world.checking, "500.00", date(2025, 12, 2))))
    seed_schedules(world)
    f = run(world.vz.forecast(ForecastQuery(t, days=30, estimate=True, threshold="4990.00")))
    savings = next(a for a in f.accounts if a.account_id == world.savings)
    # 5000.00 - 270.00 - 500.00 = 4230.00 now; groceries 270.00 over 90 days -> floor(-27000 * k / 90)
    assert savings.days[0].balance_minor == 423_000
    assert savings.days[10].estimated_minor == savings.days[10].balance_minor - 3_000
    assert savings.below_on == date(2026, 1, 1)
    assert [e.total_minor for e in f.estimates if e.account_id == world.savings] == [-27_000]


def test_a_paused_schedule_posts_nothing_and_a_deleted_one_is_gone(world: World) -> None:
    s = seed_schedules(world)
    rent = s["rent"].id  # type: ignore[attr-defined]
    run(world.vz.change_schedule(ScheduleChange(world.tenant, rent, active=False)))
    posted = run(world.vz.post_schedules(SchedulePosting(world.tenant, date(2026, 1, 6))))
    assert all(tx.description != "Rent" for tx in posted)
    world.clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))  # resumed in March: January and February stay skipped
    resumed = run(world.vz.change_schedule(ScheduleChange(world.tenant, rent, active=True)))
    assert resumed.next_due == date(2026, 3, 5)
    run(world.vz.delete_schedule(ScheduleDeletion(world.tenant, rent)))
    world.fails_cleanly(world.vz.get_schedule(ScheduleQuery(world.tenant, rent)), NotFound)


def _import(w: World, rows: list[tuple[str, str, str]]) -> Any:
    text = "date,text,amount\n" + "".join(f"{d},{t},{a}\n" for d, t, a in rows)
    parsed = parse_csv(text, CsvMapping("date", "text", amount_column="amount"), "BRL")
    return run(w.vz.import_statement(StatementUpload(w.tenant, w.checking, "s.csv", parsed)))


def test_an_imported_row_of_an_expected_occurrence_is_linked_not_added(world: World) -> None:
    t = world.tenant
    plan = NewSchedule(t, world.checking, "Netflix", "-39.90", "FREQ=MONTHLY;BYMONTHDAY=15", date(2026, 1, 15),
                       payee="NETFLIX.COM", tolerance="2.00")  # fmt: skip
    netflix = run(world.vz.create_schedule(plan))
    (posted,) = run(world.vz.post_schedules(SchedulePosting(t, date(2026, 1, 16))))
    data = world.backend.store.data(t)
    before = data.accounts[world.checking].balance.minor
    # Posted on the 15th; the bank row comes on the 17th for 40.90 (within the tolerance): the
    # posted transaction becomes the row, nothing is added.
    done = _import(world, [("2026-01-17", "NETFLIX.COM", "-40.90")])
    assert (done.imported, done.updated) == (0, 1)
    data = world.backend.store.data(t)
    tx = data.transactions[posted.id]
    assert (tx.booked_on, tx.amount.minor) == (date(2026, 1, 17), -4090)
    assert data.accounts[world.checking].balance.minor == before - 100
    # February's row arrives before the due date: it is added, and the date is linked, so the
    # job posts nothing for it. A row beyond the tolerance, or of another payee, is just new.
    done = _import(world, [("2026-02-13", "NETFLIX.COM", "-39.90"), ("2026-03-15", "NETFLIX.COM", "-45.00"),
                           ("2026-04-15", "SPOTIFY", "-39.90")])  # fmt: skip
    assert (done.imported, done.updated) == (3, 0)
    assert run(world.vz.post_schedules(SchedulePosting(t, date(2026, 2, 28)))) == []
    detail = run(world.vz.get_schedule(ScheduleQuery(t, netflix.id)))
    assert [(o.due_on, o.handling.value) for o in detail.handled] == [
        (date(2026, 1, 15), "posted"), (date(2026, 2, 15), "linked")
    ]  # fmt: skip
    march = run(world.vz.post_schedules(SchedulePosting(t, date(2026, 3, 20))))
    assert [x.booked_on for x in march] == [date(2026, 3, 15)]  # 45.00 was not March's Netflix
    # Importing the same file again changes nothing.
    again = _import(world, [("2026-02-13", "NETFLIX.COM", "-39.90")])
    assert (again.imported, again.duplicates) == (0, 1)


def test_a_projected_dip_is_announced_once_per_day_below_and_threshold(world: World) -> None:
    t = world.tenant
    seed_schedules(world)
    events = run(world.vz.check_balances(BalanceCheck(t, date(2026, 1, 1))))
    # Checking goes to -500.00 on Jan 5 (rent before payroll); the card to -15.99 on Jan 31.
    assert sorted((e.account_id, e.below_on, e.lowest_minor) for e in events) == sorted(
        [(str(world.checking), "2026-01-05", -50_000), (str(world.card_usd), "2026-01-31", -1599)]
    )
    spec = notification_for(events[0])
    assert spec is not None
    assert spec[0] == "forecast"
    assert run(world.vz.check_balances(BalanceCheck(t, date(2026, 1, 2)))) == []  # the same dips: said already
    run(world.vz.set_balance_alert(AlertInput(t, world.savings, "5050.00", days=10)))
    (savings,) = run(world.vz.check_balances(BalanceCheck(t, date(2026, 1, 2))))
    assert (savings.account_id, savings.below_on, savings.threshold_minor) == (
        str(world.savings),
        "2026-01-02",
        505_000,
    )
    world.fails_cleanly(world.vz.set_balance_alert(AlertInput(t, world.savings, "1.001")), ValidationError)
    world.fails_cleanly(world.vz.set_balance_alert(AlertInput(t, world.savings, "1.00", days=0)), ValidationError)
    world.fails_cleanly(world.vz.remove_balance_alert(AlertRemoval(t, world.checking)), NotFound)
    run(world.vz.remove_balance_alert(AlertRemoval(t, world.savings)))
    assert run(world.vz.list_balance_alerts(AlertsQuery(t))) == []


class CountingEngine(DateutilRecurrence):
    def __init__(self) -> None:
        self.calls = 0

    def between(self, rule: str, starts_on: date, first: date, last: date, limit: int = 1000) -> list[date]:
        self.calls += 1
        return super().between(rule, starts_on, first, last, limit)


def test_matching_a_large_import_evaluates_each_rule_once(world: World) -> None:
    engine = CountingEngine()
    vz = Valorize(replace(world.backend.ports, recurrence=engine))
    t = world.tenant
    for name in ("Gym", "Rent", "Coffee"):
        run(vz.create_schedule(NewSchedule(t, world.checking, name, "-9.00", "FREQ=DAILY", date(2024, 1, 1))))
    engine.calls = 0
    rows = [
        (f"{date(2025, 1, 1) + timedelta(days=i % 700)}", f"SHOP {i}", f"-{i % 50 + 1}.{i % 100:02d}")
        for i in range(2000)
    ]
    text = "date,text,amount\n" + "".join(f"{d},{x},{a}\n" for d, x, a in rows)
    parsed = parse_csv(text, CsvMapping("date", "text", amount_column="amount"), "BRL")
    run(vz.import_statement(StatementUpload(t, world.checking, "big.csv", parsed)))
    assert engine.calls == 3  # once per schedule, not once per row and schedule
