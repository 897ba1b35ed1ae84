"""Schedules post exactly once per occurrence: across redelivered tasks, repeated ticks, a
restarted process and concurrent workers — on memory and on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from valorize_adapters.memory.store import MemoryStore
from valorize_adapters.memory.unit_of_work import MemoryDirectory, MemoryUnitOfWorkFactory
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.recurrence.rrule import DateutilRecurrence
from valorize_adapters.system import SystemClock, TimeOrderedIds
from valorize_core import NewAccount, NewSchedule, Ports, SchedulePosting, SignupRequest, Valorize
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.statements import CsvMapping, parse_csv
from valorize_core.model.transactions import TransactionSource
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import StatementUpload

Restart = Callable[[], Valorize]


@pytest.fixture(params=["memory", "postgres"])
def restartable(request: pytest.FixtureRequest) -> Any:
    """A fresh application over the same stored data each call: a restarted process."""
    if request.param == "memory":
        store = MemoryStore()

        def again() -> Valorize:
            return Valorize(Ports(MemoryUnitOfWorkFactory(store), SystemClock(), TimeOrderedIds(),
                                  MemoryDirectory(store), recurrence=DateutilRecurrence()))  # fmt: skip

        yield again
        return
    url = request.getfixturevalue("database_url")
    opened: list[PostgresBackend] = []

    def again_pg() -> Valorize:
        backend = run(PostgresBackend.open(url, run_migrations=False, min_size=1, max_size=4))
        opened.append(backend)
        return backend.app

    yield again_pg
    for backend in opened:
        run(backend.close())


def _posting(tenant: uuid.UUID, day: date, task_id: uuid.UUID | None = None) -> Task:
    return Task(task_id or uuid.uuid4(), "post_schedules", tenant, {"day": day.isoformat()})


async def _recurring(vz: Valorize, tenant: uuid.UUID, account: uuid.UUID) -> list[Any]:
    async with vz.ports.uow(tenant) as uow:
        txs = await uow.transactions.all(TransactionFilter(account_ids=(account,)))
        balance = (await uow.accounts.get(account)).balance.minor  # type: ignore[union-attr]
    return [[t for t in txs if t.source is TransactionSource.RECURRING], balance]


def test_posting_is_exactly_once_across_redelivery_restart_and_concurrency(restartable: Restart) -> None:
    vz = restartable()
    signup = run(vz.signup(SignupRequest("Sched", f"{uuid.uuid4().hex}@example.com", "S")))
    tenant = signup.tenant.id
    account = run(vz.create_account(NewAccount(tenant, "Main", "checking", "BRL", "100.00"))).id
    run(vz.create_schedule(NewSchedule(tenant, account, "Coffee", "-1.00", "FREQ=DAILY", date(2026, 2, 1))))
    run(vz.create_schedule(NewSchedule(tenant, account, "Rent", "-30.00", "FREQ=MONTHLY;BYMONTHDAY=31",
                                       date(2026, 1, 31))))  # fmt: skip
    runner = TaskRunner(vz)

    first = _posting(tenant, date(2026, 2, 10))
    assert run(runner.run(first)).outcome is TaskOutcome.DONE
    assert run(runner.run(first)).outcome is TaskOutcome.DUPLICATE  # the same task redelivered
    assert run(runner.run(_posting(tenant, date(2026, 2, 10)))).outcome is TaskOutcome.DONE  # another tick
    posted, balance = run(_recurring(vz, tenant, account))
    assert len(posted) == 10 + 1  # Feb 1..10 and Jan 31
    assert balance == 10_000 - 1_000 - 3_000

    # A restarted process (a new pool, a new runner) runs the same day again, and the next days
    # from several workers at once.
    restarted = [restartable(), restartable()]
    assert run(TaskRunner(restarted[0]).run(_posting(tenant, date(2026, 2, 10)))).outcome is TaskOutcome.DONE

    async def crowd() -> None:
        runs = [TaskRunner(app).run(_posting(tenant, date(2026, 3, 1))) for app in restarted for _ in range(4)]
        outcomes = await asyncio.gather(*runs)
        assert {o.outcome for o in outcomes} == {TaskOutcome.DONE}

    run(crowd())
    posted, balance = run(_recurring(restarted[1], tenant, account))
    per_day = Counter((t.description, t.booked_on) for t in posted)
    assert set(per_day.values()) == {1}  # never twice
    assert len(posted) == 29 + 2  # Feb 1 .. Mar 1 daily, Jan 31 and Feb 28 rent
    assert balance == 10_000 - 2_900 - 6_000
    assert Counter(t.booked_on for t in posted if t.description == "Rent") == {
        date(2026, 1, 31): 1, date(2026, 2, 28): 1
    }  # fmt: skip


def test_an_import_racing_the_posting_job_leaves_one_transaction_per_date(pg_backend: PostgresBackend) -> None:
    """The job posts a date while an import brings the bank row of it: whichever commits
    first, the other finds the date handled (the occurrence key) and the row is linked to the
    posted transaction or the posting skipped — one transaction per date, balance consistent."""
    vz = pg_backend.app
    tenant = run(vz.signup(SignupRequest("Race", f"{uuid.uuid4().hex}@example.com", "R"))).tenant.id
    account = run(vz.create_account(NewAccount(tenant, "Main", "checking", "BRL", "1000.00"))).id
    first = date(2026, 3, 1)
    run(vz.create_schedule(NewSchedule(tenant, account, "Gym", "-10.00", "FREQ=WEEKLY", first, payee="GYM SMART",
                                       tolerance="1.00")))  # fmt: skip
    rounds = 10

    async def race(i: int) -> None:
        day = first + timedelta(days=7 * i)  # a week apart: beyond the import's own 3-day same-amount dedup
        text = f"date,text,amount\n{day.isoformat()},GYM SMART,-10.50\n"
        parsed = parse_csv(text, CsvMapping("date", "text", amount_column="amount"), "BRL")
        post = vz.post_schedules(SchedulePosting(tenant, day))
        bank = vz.import_statement(StatementUpload(tenant, account, "s.csv", parsed))
        await asyncio.gather(*((post, bank) if i % 2 else (bank, post)))

    for i in range(rounds):
        run(race(i))

    async def read() -> tuple[list[Any], int]:
        async with vz.ports.uow(tenant) as uow:
            txs = await uow.transactions.all(TransactionFilter(account_ids=(account,)))
            balance = (await uow.accounts.get(account)).balance.minor  # type: ignore[union-attr]
        return txs, balance

    txs, balance = run(read())
    per_day = Counter(t.booked_on for t in txs)
    assert per_day == {first + timedelta(days=7 * i): 1 for i in range(rounds)}
    assert all(t.amount.minor == -1050 for t in txs)  # every date is the bank's row
    assert balance == 100_000 + sum(t.amount.minor for t in txs)
