"""An import task that fails at each step, on memory and on PostgreSQL: one outcome, one set of rows.

The task runs through the real :class:`TaskRunner` against real adapters; a fault is injected
by wrapping a port (the unit of work, a repository, the parser) so that one step raises once:
parsing the file, storing the rows (after they are written), releasing the file (after it is
released), each commit, and right after each commit (the worker dying before its ack). After
the failed delivery the import is either ``completed`` with its rows once and no file kept,
``failed`` with no rows and no file, or still ``pending`` with no rows and its file (the queue
retries); a redelivery then leaves exactly one outcome, and a third delivery is a duplicate.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from valorize_adapters.memory import InMemoryBackend
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.migrate import available_migrations, migrate
from valorize_core import NewAccount, SignupRequest, Valorize
from valorize_core.model.events import ImportRequested
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.money import Currency, Money
from valorize_core.model.statements import ParsedStatement, StatementRow
from valorize_core.ports.task_queue import Task
from valorize_core.runtime.relay import follow_up_tasks
from valorize_core.runtime.tasks import TaskOutcome, TaskRunner
from valorize_core.testing.loop import run
from valorize_core.use_cases.actions.import_statement import ImportRequest
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.queries.get_import import ImportLookup

MAPPING = {"date_column": "data", "description_column": "lançamento", "amount_column": "valor",
           "date_format": "%d/%m/%Y", "decimal_style": "comma", "delimiter": ";"}  # fmt: skip
GOOD = (
    "data;lançamento;valor\n03/11/2026;PADARIA REAL;-12,50\n03/11/2026;PADARIA REAL;-12,50\n04/11/2026;SALARIO;100,00\n"
)
BAD = GOOD + "31/02/2026;NOPE;-1,00\n"  # a row with an impossible date: nothing is imported


class Injected(Exception):
    """The injected fault (not a domain error: the queue retries the task)."""


@dataclass
class Faults:
    """Raises :class:`Injected` the ``at``-th time ``step`` is reached, once; counts every step."""

    step: str | None = None
    at: int = 1
    seen: Counter[str] = field(default_factory=Counter)
    fired: bool = False

    def hit(self, step: str) -> None:
        self.seen[step] += 1
        if not self.fired and step == self.step and self.seen[step] == self.at:
            self.fired = True
            raise Injected(f"{step} #{self.at}")


class _Repository:
    """A repository whose ``steps`` methods report to ``faults`` after doing their work."""

    def __init__(self, inner: Any, faults: Faults, steps: Mapping[str, str]) -> None:
        self._inner, self._faults, self._steps = inner, faults, steps

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        step = self._steps.get(name)
        if step is None:
            return method

        async def faulty(*args: Any, **kwargs: Any) -> Any:
            result = await method(*args, **kwargs)
            self._faults.hit(step)
            return result

        return faulty


class _Unit:
    """A unit of work whose commit may fail (nothing committed) or fail right after committing."""

    def __init__(self, inner: Any, faults: Faults) -> None:
        self._inner, self._faults = inner, faults

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def __aenter__(self) -> _Unit:
        await self._inner.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._inner.__aexit__(*exc)

    @property
    def transactions(self) -> Any:
        return _Repository(self._inner.transactions, self._faults, {"add_many": "rows"})

    @property
    def imports(self) -> Any:
        # ``drop_source`` was the release before the import became one unit of work.
        return _Repository(self._inner.imports, self._faults, {"take_source": "release", "drop_source": "release"})

    async def commit(self) -> None:
        self._faults.hit("commit")
        await self._inner.commit()
        self._faults.hit("after_commit")


class _Parser:
    def __init__(self, inner: Any, faults: Faults) -> None:
        self._inner, self._faults = inner, faults

    def check_options(self, options: Mapping[str, Any]) -> None:
        self._inner.check_options(options)

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        self._faults.hit("parse")
        return self._inner.parse(content, currency, options)


def faulty(ports: Ports, faults: Faults) -> Ports:
    """``ports`` with every unit of work and parser reporting to ``faults``."""
    inner = ports.uow
    parsers = {fmt: _Parser(p, faults) for fmt, p in ports.parsers.items()}
    return replace(ports, uow=lambda tenant_id: _Unit(inner(tenant_id), faults), parsers=parsers)


@pytest.fixture(params=["memory", "postgres"])
def ports(request: pytest.FixtureRequest) -> Iterator[Ports]:
    if request.param == "memory":
        yield InMemoryBackend().ports
    else:
        backend: PostgresBackend = request.getfixturevalue("pg_backend")
        yield backend.ports


@dataclass(frozen=True)
class Requested:
    tenant: uuid.UUID
    account: uuid.UUID
    import_id: uuid.UUID
    task: Task


def request_import(ports: Ports, text: str) -> Requested:
    """A tenant with an account (opening 1,000.00) and an import of ``text`` requested for it,
    with the task the relay derives from its ``ImportRequested``."""
    vz = Valorize(ports)

    async def go() -> Requested:
        signed = await vz.signup(SignupRequest("Faults", f"{uuid.uuid4().hex}@example.com", "Owner"))
        tenant = signed.tenant.id
        account = await vz.create_account(NewAccount(tenant, "Checking", "checking", "BRL", opening_balance="1000.00"))
        record = await vz.request_import(ImportRequest(tenant, account.id, "extrato.csv", text.encode(), MAPPING))
        event = ports.event(ImportRequested, tenant, import_id=str(record.id), account_id=str(account.id))
        (task,) = follow_up_tasks(event)
        return Requested(tenant, account.id, record.id, task)

    return run(go())


@dataclass(frozen=True)
class State:
    status: str
    rows: int
    file_kept: bool
    balance: int


def state(ports: Ports, req: Requested) -> State:
    async def go() -> State:
        async with ports.uow(req.tenant) as uow:
            record = await uow.imports.get(req.import_id)
            rows = await uow.transactions.all(TransactionFilter(import_id=req.import_id))
            kept = await uow.imports.source(req.import_id)
            account = await uow.accounts.get(req.account)
        assert record is not None
        assert account is not None
        return State(record.status.value, len(rows), kept is not None, account.balance.minor)

    return run(go())


COMPLETED = State("completed", 3, False, 100_000 - 2_500 + 10_000)
FAILED = State("failed", 0, False, 100_000)
RETRYABLE = State("pending", 0, True, 100_000)


def deliver(ports: Ports, task: Task) -> TaskOutcome | None:
    """Deliver ``task`` once; ``None`` when it raised (the queue would retry it)."""
    try:
        return run(TaskRunner(Valorize(ports)).run(task)).outcome
    except Injected:
        return None


def commits_of_a_clean_run(ports: Ports, text: str) -> int:
    faults = Faults()
    req = request_import(ports, text)
    assert deliver(faulty(ports, faults), req.task) is TaskOutcome.DONE
    return faults.seen["commit"]


def fault_points(ports: Ports, text: str) -> list[tuple[str, int]]:
    """Every step a delivery of ``text`` reaches: each commit it makes, and right after each."""
    commits = commits_of_a_clean_run(ports, text)
    steps = [("parse", 1), ("release", 1)] + ([("rows", 1)] if text == GOOD else [])
    return steps + [(s, k) for k in range(1, commits + 1) for s in ("commit", "after_commit")]


def one_fault(ports: Ports, text: str, final: State, step: str, at: int) -> None:
    """Request an import of ``text``, deliver its task with a fault at ``step`` (its ``at``-th
    time), then redeliver it twice without faults, checking the import after each delivery."""
    req = request_import(ports, text)
    faults = Faults(step, at)
    first = deliver(faulty(ports, faults), req.task)
    assert faults.fired
    after_fault = state(ports, req)
    assert after_fault in (final, RETRYABLE), f"after the fault: {after_fault}"
    assert first is None or after_fault == final, f"delivered ({first}) but {after_fault}"
    assert deliver(ports, req.task) in (TaskOutcome.DONE, TaskOutcome.DUPLICATE)
    assert state(ports, req) == final, f"redelivered: {state(ports, req)}"
    assert deliver(ports, req.task) is TaskOutcome.DUPLICATE
    assert state(ports, req) == final, f"delivered a third time: {state(ports, req)}"


@pytest.mark.parametrize(("text", "final"), [(GOOD, COMPLETED), (BAD, FAILED)], ids=["good-file", "bad-row"])
def test_a_fault_at_any_step_leaves_one_outcome_and_no_file(ports: Ports, text: str, final: State) -> None:
    problems: list[str] = []
    for step, at in fault_points(ports, text):
        try:
            one_fault(ports, text, final, step, at)
        except AssertionError as exc:
            problems.append(f"fault at {step} #{at}: {exc}".splitlines()[0])
    assert not problems, "\n".join(problems)


class _OtherCurrency:
    """A parser that reads every amount in US dollars, whatever the account's currency."""

    def check_options(self, options: Mapping[str, Any]) -> None:
        return None

    def parse(self, content: bytes, currency: Currency, options: Mapping[str, Any]) -> ParsedStatement:
        row = StatementRow(2, date(2026, 11, 3), "PADARIA REAL", Money(-1250, "USD"))
        return ParsedStatement((row,), ())


def test_an_import_the_domain_refuses_fails_and_releases_its_file(ports: Ports) -> None:
    """Before, the refusal rejected the task and left the import pending with its file forever."""
    ports = replace(ports, parsers={**ports.parsers, "csv": _OtherCurrency()})
    req = request_import(ports, GOOD)
    assert deliver(ports, req.task) is TaskOutcome.DONE
    assert state(ports, req) == FAILED
    failed = run(Valorize(ports).get_import(ImportLookup(req.tenant, req.import_id)))
    assert [e.message for e in failed.errors] == ["account_id: the statement is not in BRL"]
    assert deliver(ports, req.task) is TaskOutcome.DUPLICATE


class _Meeting(_Unit):
    """A unit whose rows wait, before they are written, until another unit's rows are ready too."""

    def __init__(self, inner: Any, barrier: asyncio.Barrier) -> None:
        super().__init__(inner, Faults())
        self._barrier = barrier

    @property
    def transactions(self) -> Any:
        unit = self

        class Meet:
            def __getattr__(self, name: str) -> Any:
                method = getattr(unit._inner.transactions, name)
                if name != "add_many":
                    return method

                async def meet(*args: Any) -> Any:
                    await unit._barrier.wait()
                    return await method(*args)

                return meet

        return Meet()


def test_two_runs_of_one_file_at_once_store_its_rows_once(pg_backend: PostgresBackend) -> None:
    """Two imports of one file run at once: both match the rows against the account before
    either stores them, so the second to store collides with the first's. It stores nothing,
    stays pending with its file (the queue retries), and its retry counts the rows as
    duplicates. Before, the collision rejected the task: pending with its file forever."""
    ports = pg_backend.ports
    first = request_import(ports, GOOD)
    record = run(
        Valorize(ports).request_import(ImportRequest(first.tenant, first.account, "again.csv", GOOD.encode(), MAPPING))
    )
    event = ports.event(ImportRequested, first.tenant, import_id=str(record.id), account_id=str(first.account))
    second = replace(first, import_id=record.id, task=follow_up_tasks(event)[0])

    async def both() -> list[object]:
        barrier = asyncio.Barrier(2)
        runner = TaskRunner(Valorize(replace(ports, uow=lambda t: _Meeting(ports.uow(t), barrier))))
        return list(await asyncio.gather(runner.run(first.task), runner.run(second.task), return_exceptions=True))

    outcomes = run(both())
    assert sorted(type(o).__name__ for o in outcomes) == ["ImportCollided", "TaskResult"], outcomes
    assert sorted([state(ports, first), state(ports, second)], key=lambda s: s.rows)[0] == replace(
        RETRYABLE, balance=COMPLETED.balance
    )
    for req in (first, second):
        assert deliver(ports, req.task) in (TaskOutcome.DONE, TaskOutcome.DUPLICATE)
    states = sorted([state(ports, first), state(ports, second)], key=lambda s: s.rows)
    assert states == [replace(COMPLETED, rows=0), COMPLETED]


def test_migration_0013_frees_the_files_finished_imports_kept(database_url: str) -> None:
    """Runs before 0013 dropped a file after the outcome, in a transaction of its own, and a
    failure there kept it: the migration frees those files (only those) and forbids them."""
    name = f"leaks_{uuid.uuid4().hex[:8]}"
    url = make_conninfo(database_url, dbname=name)
    # Every migration but 0013: today's code writes columns later migrations add (0024's
    # imports.balance_check), and 0013 is what this test applies on its own.
    before = [m for m in available_migrations() if m.version != 13]

    async def go() -> dict[str, bool]:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as admin:
            await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        await migrate(url, before)
        backend = await PostgresBackend.open(url, run_migrations=False, max_size=2)
        try:
            vz = Valorize(backend.ports)
            signed = await vz.signup(SignupRequest("Leaks", "leaks@example.com", "Owner"))
            account = await vz.create_account(NewAccount(signed.tenant.id, "Checking", "checking", "BRL"))
            ids = {}
            for status in ("completed", "failed", "pending"):
                request = ImportRequest(signed.tenant.id, account.id, f"{status}.csv", GOOD.encode(), MAPPING)
                ids[status] = (await vz.request_import(request)).id
        finally:
            await backend.close()
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as owner:
            for status in ("completed", "failed"):
                await owner.execute("UPDATE imports SET status = %s WHERE id = %s", (status, ids[status]))
            upto = [m for m in available_migrations() if m.version <= 13]  # later migrations are not its subject
            assert [m.version for m in await migrate(url, upto)] == [13]
            cur = await owner.execute("SELECT id, source IS NOT NULL FROM imports")
            kept = {row[0]: row[1] for row in await cur.fetchall()}
            with pytest.raises(psycopg.errors.CheckViolation):
                await owner.execute("UPDATE imports SET status = 'completed' WHERE id = %s", (ids["pending"],))
        return {status: kept[ids[status]] for status in ids}

    assert run(go()) == {"completed": False, "failed": False, "pending": True}
