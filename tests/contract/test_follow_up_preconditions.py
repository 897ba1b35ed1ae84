"""A commit writes only the follow-up tasks that can do something, one per kind of work: the
same decisions on memory and on PostgreSQL (whose probe runs in the statement that writes the
outbox), an index scan for each probe as the application's role, and the guarantee for an
endpoint or a budget created while writes commit (docs/tasks.md)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import psycopg
import pytest
from pg_support import tenant_rows

from valorize_adapters.memory import InMemoryBackend, InMemoryTaskQueue
from valorize_adapters.postgres import PostgresBackend
from valorize_adapters.postgres.unit_of_work import _INSERT_OUTBOX_AND_TASKS, _json_text, _task_row
from valorize_core import BudgetInput, NewAccount, NewCategory, NewTransaction, SignupRequest, Valorize
from valorize_core.model.events import AccountBalanceChanged, DomainEvent, TransactionCreated
from valorize_core.model.webhooks import WebhookEndpoint
from valorize_core.ports.unit_of_work import CommitHooks, UnitOfWork
from valorize_core.runtime.relay import follow_ups
from valorize_core.testing.loop import run
from valorize_core.use_cases.context import Ports

pytestmark = pytest.mark.slow


@dataclass
class Side:
    """One adapter: the ports (writing no tasks), a factory writing them, and what it wrote."""

    ports: Ports
    writing: Any
    written: Callable[[uuid.UUID], Awaitable[list[tuple[str, dict[str, Any]]]]]


@pytest.fixture(params=["memory", "postgres"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "memory":
        backend = InMemoryBackend()
        queue = InMemoryTaskQueue()

        async def from_queue(tenant: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
            return [(t.name, t.payload) for t in queue.pending() if t.tenant_id == tenant]

        return Side(backend.ports, backend.ports.uow.writing_tasks(follow_ups, queue), from_queue)
    pg: PostgresBackend = request.getfixturevalue("pg_backend")

    async def from_table(tenant: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
        found = await tenant_rows(
            pg, tenant, "SELECT name, payload FROM task_queue WHERE tenant_id = %s ORDER BY name", (tenant,)
        )
        return [(r["name"], r["payload"]) for r in found]

    return Side(pg.ports, pg.ports.uow.writing_tasks(follow_ups), from_table)


def _endpoint(
    tenant: uuid.UUID, event_types: tuple[str, ...], *, enabled: bool = True, at: datetime | None = None
) -> WebhookEndpoint:
    return WebhookEndpoint(
        uuid.uuid4(), tenant, "https://hooks.example.com/in", event_types, "whsec_x", at or _now(), enabled=enabled
    )


def _now() -> datetime:
    return datetime(2026, 3, 1, 12, tzinfo=UTC)


async def _tenant(ports: Ports, *, budget: bool = False) -> uuid.UUID:
    vz = Valorize(ports)
    tenant = (await vz.signup(SignupRequest("Casa", f"{uuid.uuid4().hex}@example.com", "Ana"))).tenant.id
    if budget:
        food = await vz.create_category(NewCategory(tenant, "Food", "expense"))
        await vz.set_budget(BudgetInput(tenant, food.id, "100.00", "BRL"))
    return tenant


def _events(ports: Ports, tenant: uuid.UUID) -> list[DomainEvent]:
    """A write's events: two transactions on two days and a balance change."""

    def created(day: str) -> DomainEvent:
        return ports.event(
            TransactionCreated, tenant, transaction_id=str(uuid.uuid4()), account_id=str(uuid.uuid4()),
            amount_minor=-100, currency="BRL", booked_on=day, category_id=None, description="x",
        )  # fmt: skip

    balance = ports.event(AccountBalanceChanged, tenant, account_id=str(uuid.uuid4()), balance_minor=5, currency="BRL")
    return [created("2026-03-01"), created("2026-03-02"), balance]


async def _commit(factory: Any, tenant: uuid.UUID, events: Sequence[DomainEvent], *extra: WebhookEndpoint) -> None:
    async with factory(tenant) as uow:
        for endpoint in extra:  # the unit's own change, seen by its own commit
            await uow.webhooks.add_endpoint(endpoint)
        for event in events:
            uow.record(event)
        await uow.commit()


FAN_OUT = [("fan_out_webhooks", ["transaction.created", "transaction.created", "account.balance_changed"])]
BUDGETS = [("evaluate_budgets", "2026-03-01"), ("evaluate_budgets", "2026-03-02")]


@pytest.mark.parametrize(
    ("budget", "endpoints", "expected"),
    [
        (False, [], []),
        (True, [], BUDGETS),
        (False, [("transaction.created",)], FAN_OUT),
        (False, [("*",)], FAN_OUT),
        (False, [("account.balance_changed", "report.ready")], FAN_OUT),
        (False, [("transaction.deleted",)], []),  # subscribed to none of the write's events
        (False, [("transaction.created", "disabled")], []),  # a disabled endpoint gets nothing
        (True, [("*",), ("transaction.created",)], BUDGETS + FAN_OUT),
    ],
    ids=["nothing", "budget", "endpoint", "star", "other-of-its-events", "other-event", "disabled", "both"],
)
def test_a_commit_writes_only_the_follow_ups_that_can_do_something(
    side: Side, budget: bool, endpoints: list[tuple[str, ...]], expected: list[tuple[str, Any]]
) -> None:
    async def go() -> list[tuple[str, Any]]:
        tenant = await _tenant(side.ports, budget=budget)
        async with side.ports.uow(tenant) as uow:
            for types in endpoints:
                enabled = "disabled" not in types
                await uow.webhooks.add_endpoint(
                    _endpoint(tenant, tuple(t for t in types if t != "disabled"), enabled=enabled)
                )
            await uow.commit()
        await _commit(side.writing, tenant, _events(side.ports, tenant))
        written = await side.written(tenant)
        return sorted(
            (name, payload["day"] if name == "evaluate_budgets" else [e["name"] for e in payload["events"]])
            for name, payload in written
        )

    assert run(go()) == sorted(expected)


def test_a_unit_that_adds_an_endpoint_fans_out_its_own_events(side: Side) -> None:
    async def go() -> list[str]:
        tenant = await _tenant(side.ports)
        await _commit(side.writing, tenant, _events(side.ports, tenant), _endpoint(tenant, ("*",)))
        return [name for name, _ in await side.written(tenant)]

    assert run(go()) == ["fan_out_webhooks"]


def test_setting_a_budget_asks_for_todays_evaluation(side: Side) -> None:
    async def go() -> list[tuple[str, dict[str, Any]]]:
        tenant = await _tenant(side.ports)
        vz = Valorize(replace(side.ports, uow=side.writing))
        food = await vz.create_category(NewCategory(tenant, "Food", "expense"))
        assert await side.written(tenant) == []  # a category: nothing to evaluate
        await vz.set_budget(BudgetInput(tenant, food.id, "100.00", "BRL"))
        return await side.written(tenant)

    assert run(go()) == [("evaluate_budgets", {"day": side.ports.clock.today().isoformat()})]


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("statistics", ["as they are", "analyzed"])
@pytest.mark.parametrize("probe", ["budgets", "webhook_endpoints"])
def test_each_probe_is_an_index_scan_as_the_application(
    database_url: str, probe: str, statistics: str, plan_cache_mode: str
) -> None:
    # The probes run in every write's commit: as the application's role (row security on), with
    # sequential scans priced out, each must still reach its table through the primary key's
    # index on (tenant_id, id) or its unique one led by tenant_id — no index of its own is needed —
    # whatever the table's statistics, in a custom plan and in a prepared statement's generic one.
    # The budget probe runs once (an InitPlan) and stops at the first budget: never a hashed
    # SubPlan, which reads all the tenant's budgets first (and, analyzed, by whichever scan).
    tenant = uuid.uuid4()
    task = follow_ups(_events(InMemoryBackend().ports, tenant))
    record = [{"tenant_id": str(tenant), "id": str(uuid.uuid4()), "name": "x", "occurred_at": "2026-03-01T00:00:00Z",
               "payload": {}, "correlation_id": None}]  # fmt: skip
    numbered = iter(range(1, 10))
    prepared = re.sub("%s", lambda _: f"${next(numbered)}", _INSERT_OUTBOX_AND_TASKS)
    args = [_json_text(record), _json_text([_task_row(t) for t in task]), str(tenant)][: prepared.count("$")]
    with psycopg.connect(database_url) as conn:
        if statistics == "analyzed":
            conn.execute(psycopg.sql.SQL("ANALYZE {}").format(psycopg.sql.Identifier(probe)))
        conn.execute("SET LOCAL ROLE valorize_app")
        conn.execute("SET LOCAL enable_seqscan = off")
        conn.execute("SELECT set_config('plan_cache_mode', %s, true)", (plan_cache_mode,))
        conn.execute("SELECT set_config('valorize.tenant_id', %s, true)", (str(tenant),))
        conn.execute("PREPARE probe AS " + prepared)
        explain = psycopg.sql.SQL("EXPLAIN EXECUTE probe({})").format(
            psycopg.sql.SQL(", ").join(psycopg.sql.Literal(a) for a in args)
        )
        rows = conn.execute(explain).fetchall()
        conn.rollback()
    plan = "\n".join(r[0] for r in rows)
    lines = plan.splitlines()
    scans = [n for n, line in enumerate(lines) if re.search(rf"Index (Only )?Scan (on|using) {probe}_\w+", line)]
    assert scans, plan
    assert f"Seq Scan on {probe}" not in plan, plan
    assert "hashed SubPlan" not in plan, plan
    if probe == "budgets":  # the scan belongs to an InitPlan, not to a SubPlan run per row
        (scan,) = scans
        headed = [line.strip() for line in lines[:scan] if re.match(r"\s*(InitPlan|SubPlan|CTE) ", line)]
        assert headed[-1].startswith("InitPlan"), plan


@pytest.mark.parametrize("created", ["endpoint", "budget"])
def test_every_write_committing_after_the_creation_gets_its_follow_up(
    pg_backend: PostgresBackend, created: str
) -> None:
    """The guarantee: the events of every write whose commit began after the endpoint (or budget)
    was created are fanned out to it (evaluated), though writes race the creation."""
    name = "fan_out_webhooks" if created == "endpoint" else "evaluate_budgets"
    ports = pg_backend.ports
    done = asyncio.Event()
    began: list[tuple[UnitOfWork, bool]] = []  # each write's unit, and whether its commit began after
    finished: list[UnitOfWork] = []  # the writes committed, in order

    async def stamp(uow: UnitOfWork) -> None:
        began.append((uow, done.is_set()))

    under_way = asyncio.Event()

    async def finish(uow: UnitOfWork) -> None:
        finished.append(uow)
        if len(finished) >= 8:
            under_way.set()

    hooks = CommitHooks(before=(stamp,), after=(finish,))
    writing = replace(ports, uow=ports.uow.writing_tasks(follow_ups).with_hooks(hooks))  # type: ignore[attr-defined]

    async def go() -> uuid.UUID:
        vz = Valorize(ports)
        tenant = await _tenant(ports)
        account = (await vz.create_account(NewAccount(tenant, "A", "cash", "BRL"))).id
        food = (await vz.create_category(NewCategory(tenant, "Food", "expense"))).id
        writers = Valorize(writing)

        async def writer(n: int) -> None:
            for i in range(12):
                day = date(2026, 3, 1 + (n * 12 + i) % 28)
                await writers.create_transaction(NewTransaction(tenant, account, day, f"SHOP {n} {i}", "-1.00"))

        async def creator() -> None:
            await under_way.wait()  # eight writes committed, and more under way
            if created == "endpoint":
                async with ports.uow(tenant) as uow:
                    endpoint = _endpoint(tenant, ("transaction.created",), at=ports.clock.now())
                    await uow.webhooks.add_endpoint(endpoint)
                    await uow.commit()
            else:
                await vz.set_budget(BudgetInput(tenant, food, "100.00", "BRL"))
            done.set()

        await asyncio.gather(creator(), *(writer(n) for n in range(4)))
        return tenant

    tenant = run(go())
    rows = run(tenant_rows(pg_backend, tenant, "SELECT id FROM task_queue WHERE name = %s", (name,)))
    written = {r["id"] for r in rows}
    after = [uow for uow, late in began if late]
    assert 0 < len(after) < len(began), "the creation must fall among the writes"
    for uow in after:
        expected = {t.id for t in follow_ups(uow.committed_events) if t.name == name}
        assert expected, [e.name for e in uow.committed_events]
        assert expected <= written, "a write committed after the creation lost its follow-up"
    # Writes committed before the creation began had nothing to do (none of their tasks is written).
    for uow in finished[:8]:
        assert not {t.id for t in follow_ups(uow.committed_events) if t.name == name} & written


def test_a_memory_commit_makes_no_shared_task_it_would_drop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The memory unit decides in its commit, on the event loop: it makes only the shared tasks
    whose precondition holds. A retroactive apply's 100,000 events for a tenant with no endpoint
    cut no fan-out chunks and build no payload (that held the loop ~2 s); with an endpoint they do."""
    from valorize_core.runtime import relay

    cut: list[int] = []
    real = relay._fan_out_chunks

    def counting(events: Sequence[DomainEvent]) -> list[Sequence[DomainEvent]]:
        cut.append(len(events))
        return real(events)

    monkeypatch.setattr(relay, "_fan_out_chunks", counting)
    backend, queue = InMemoryBackend(), InMemoryTaskQueue()
    writing = backend.ports.uow.writing_tasks(follow_ups, queue)

    async def go() -> list[str]:
        tenant = await _tenant(backend.ports)
        await _commit(writing, tenant, _events(backend.ports, tenant))
        assert (cut, queue.pending()) == ([], [])
        await _commit(writing, tenant, _events(backend.ports, tenant), _endpoint(tenant, ("*",)))
        return [t.name for t in queue.pending()]

    assert run(go()) == ["fan_out_webhooks"]
    assert cut == [3]
