"""The PostgreSQL unit of work: one database transaction for rows, balances and the outbox."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from datetime import date
from types import TracebackType
from typing import Any, LiteralString
from uuid import UUID

import msgspec
import psycopg
from psycopg_pool import AsyncConnectionPool

from valorize_adapters.patterns import default_pattern_engine
from valorize_adapters.postgres import rows
from valorize_adapters.postgres.idempotency import MARK_APPLIED
from valorize_adapters.postgres.repositories import (
    PgAccounts,
    PgBalanceAlerts,
    PgBudgets,
    PgCategories,
    PgIdentity,
    PgImports,
    PgJobs,
    PgNotifications,
    PgPayees,
    PgProcessedTasks,
    PgRates,
    PgRules,
    PgRuleSuggestions,
    PgSchedules,
    PgSubscriptions,
    PgTransactions,
    PgWebhooks,
)
from valorize_adapters.postgres.session import Session
from valorize_adapters.postgres.vector_index import PgExamples, VectorSettings
from valorize_core.model.events import DomainEvent
from valorize_core.model.identity import ApiToken, Membership, Role, User
from valorize_core.model.patterns import StoredPatterns
from valorize_core.ports.idempotency import key_to_mark
from valorize_core.ports.patterns import PatternEngine
from valorize_core.ports.task_queue import Task
from valorize_core.ports.unit_of_work import NO_HOOKS, CommitHooks
from valorize_core.runtime.pipeline import UnitOfWorkBase

__all__ = ["PgScheduleDirectory", "PostgresDirectory", "PostgresUnitOfWork", "PostgresUnitOfWorkFactory"]

Pool = AsyncConnectionPool[psycopg.AsyncConnection[Any]]
FollowUps = Callable[[Sequence[DomainEvent]], Sequence[Task]]

# The unit's events, and the local queue's follow-up tasks, each as one JSON parameter (a list
# of records): one statement per commit. As arrays (``unnest(%s::uuid[], …, %s::jsonb[])``)
# psycopg dumped twelve lists per write, escaping every JSON payload with a regular expression
# (a tenth of a write's API CPU, perf/README.md); the records are already JSON-safe.
_OUTBOX_ROWS: LiteralString = (
    "INSERT INTO outbox (tenant_id, id, name, occurred_at, payload, correlation_id)"
    " SELECT e.tenant_id, e.id, e.name, e.occurred_at, e.payload, e.correlation_id"
    " FROM ROWS FROM (json_to_recordset(%s::json) AS (tenant_id uuid, id uuid, name text, occurred_at timestamptz,"
    " payload jsonb, correlation_id text)) WITH ORDINALITY"
    " AS e(tenant_id, id, name, occurred_at, payload, correlation_id, position)"
    " ORDER BY e.position"  # recording order is ``seq`` order
)
_INSERT_OUTBOX: LiteralString = _OUTBOX_ROWS
# Both tables in one statement (a data-modifying WITH): different tables, no reads between them
# but the tasks' preconditions (``model.follow_ups``), probed here on the tenant's rows as the
# commit sees them (committed ones, and the unit's own): a task that would find nothing to do
# is not written. Both probes are index scans on the tables' primary keys, under row security.
# The budget probe names the unit's tenant (the last parameter: every task is the unit's), not
# each row's: uncorrelated, it is an InitPlan run once, one index probe that stops at the first
# budget. Correlated (``b.tenant_id = t.tenant_id``), the planner may turn the EXISTS into a
# hashed SubPlan that reads every budget of the tenant first, by whichever scan its statistics
# favour (docs/tasks.md).
_INSERT_OUTBOX_AND_TASKS: LiteralString = (
    "WITH events AS (" + _OUTBOX_ROWS + ")"
    " INSERT INTO task_queue (id, tenant_id, name, payload, not_before, created_at, correlation_id)"
    " SELECT t.id, t.tenant_id, t.name, t.payload, coalesce(t.not_before, now()), now(), t.correlation_id"
    " FROM json_to_recordset(%s::json)"
    " AS t(id uuid, tenant_id uuid, name text, payload jsonb, not_before timestamptz, correlation_id text,"
    " need text, subscriptions text[])"
    " WHERE t.need IS NULL"
    " OR (t.need = 'budget' AND EXISTS (SELECT FROM budgets b WHERE b.tenant_id = %s::uuid))"
    " OR (t.need = 'webhook_endpoint' AND EXISTS (SELECT FROM webhook_endpoints w"
    " WHERE w.tenant_id = t.tenant_id AND w.enabled AND w.event_types && t.subscriptions))"
    " ON CONFLICT (id) DO NOTHING"
)
_json = msgspec.json.Encoder()


def _json_text(value: Any) -> str:
    """``value`` as JSON text (UUIDs and datetimes as strings, dataclasses as objects)."""
    return _json.encode(value).decode()


def _task_row(task: Task) -> dict[str, Any]:
    """A follow-up task as :data:`_INSERT_OUTBOX_AND_TASKS` reads it, its precondition flat."""
    pre = task.precondition
    return {
        "id": task.id, "tenant_id": task.tenant_id, "name": task.name, "payload": task.payload,
        "not_before": task.not_before, "correlation_id": task.correlation_id,
        "need": None if pre is None else pre.need, "subscriptions": None if pre is None else pre.subscriptions,
    }  # fmt: skip


class PostgresUnitOfWork(UnitOfWorkBase):
    """A pooled connection and one transaction, bound to a tenant.

    Recorded events are inserted into ``outbox`` just before ``COMMIT``, so they are durable
    exactly when the state change is. Events and commit hooks are :class:`UnitOfWorkBase`'s.
    """

    def __init__(
        self,
        pool: Pool,
        tenant_id: UUID,
        vectors: VectorSettings,
        patterns: PatternEngine | None = None,
        hooks: CommitHooks = NO_HOOKS,
        follow_ups: FollowUps | None = None,
        *,
        read_only: bool = False,
    ) -> None:
        """``read_only``: a query's unit, whose reads run in no explicit transaction (each round
        trip in its own read-only one, with the tenant's settings: :class:`Session`)."""
        super().__init__(tenant_id, hooks, read_only=read_only)
        self._pool = pool
        self._vectors = vectors
        self._patterns = patterns or StoredPatterns(default_pattern_engine())
        self._follow_ups = follow_ups
        self._lease: AbstractAsyncContextManager[psycopg.AsyncConnection[Any]] | None = None

    async def _open(self) -> None:
        self._lease = self._pool.connection()
        conn = await self._lease.__aenter__()
        self.session = Session(conn, self.tenant_id, read_only=self.read_only)
        self.accounts = PgAccounts(self.session)
        self.categories = PgCategories(self.session)
        self.transactions = PgTransactions(self.session)
        self.budgets = PgBudgets(self.session)
        self.rules = PgRules(self.session, self._patterns)
        self.imports = PgImports(self.session)
        self.jobs = PgJobs(self.session)
        self.rates = PgRates(self.session)
        self.rule_suggestions = PgRuleSuggestions(self.session)
        self.notifications = PgNotifications(self.session)
        self.webhooks = PgWebhooks(self.session)
        self.payees = PgPayees(self.session)
        self.identity = PgIdentity(self.session)
        self.examples = PgExamples(self.session, self._vectors)
        self.processed = PgProcessedTasks(self.session)
        self.schedules = PgSchedules(self.session)
        self.subscriptions = PgSubscriptions(self.session)
        self.balance_alerts = PgBalanceAlerts(self.session)

    async def _close(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._lease is not None
        try:
            if not self.session.conn.closed:
                await self.session.end()  # COMMIT when it only read: prepared statements stay
        finally:
            await self._lease.__aexit__(exc_type, exc, tb)
            self._lease = None

    async def _write(self, events: Sequence[DomainEvent]) -> None:
        """Write the outbox rows (and, with ``follow_ups``, the events' tasks) and commit: one
        round trip with whatever writes still wait (:meth:`Session.defer`). A unit that wrote
        while its request holds an Idempotency-Key marks its claim applied in the same commit
        (:func:`key_to_mark`): whatever happens to the answer, a retry never writes again; and
        when the claim was retaken by a retry, the commit fails (:class:`ClaimRetaken`)."""
        if events:
            # One statement for any number of events and their tasks, in recording order. Each
            # event's record is its own JSON text, made once: the publishers send the same text.
            records = "[" + ",".join([e.to_json() for e in events]) + "]"
            tasks = self._follow_ups(events) if self._follow_ups else ()
            if tasks:
                rows = _json_text([_task_row(t) for t in tasks])
                self.session.defer(_INSERT_OUTBOX_AND_TASKS, [(records, rows, self.tenant_id)])
            else:
                self.session.defer(_INSERT_OUTBOX, [(records,)])
        held = key_to_mark(self.tenant_id)
        if held is not None and self.session.wrote:  # fails (rolled back) when the claim is gone
            self.session.defer(MARK_APPLIED, [(self.tenant_id, *held)])
        await self.session.commit()
        self._forget_reads()

    async def _discard(self) -> None:
        """Roll the transaction back."""
        await self.session.rollback()
        self._forget_reads()

    def _forget_reads(self) -> None:
        # What the repositories kept (batched reads) is true only inside the transaction.
        self.accounts.forget()
        self.payees.forget()
        self.examples.forget()
        self.rule_suggestions.forget()


class PostgresUnitOfWorkFactory:
    """Opens units of work on a pool, running ``hooks`` around their commits. Stored rules'
    patterns are compiled by ``patterns`` (default: RE2 when installed); one it refuses still
    loads (:class:`StoredPatterns`), and its rule does not run."""

    def __init__(
        self,
        pool: Pool,
        vectors: VectorSettings | None = None,
        patterns: PatternEngine | None = None,
        hooks: CommitHooks = NO_HOOKS,
        follow_ups: FollowUps | None = None,
    ) -> None:
        self.pool = pool
        self.vectors = vectors or VectorSettings()
        self.patterns: PatternEngine = StoredPatterns(patterns or default_pattern_engine())
        self.hooks = hooks
        self.follow_ups = follow_ups

    def __call__(self, tenant_id: UUID) -> PostgresUnitOfWork:
        return PostgresUnitOfWork(self.pool, tenant_id, self.vectors, self.patterns, self.hooks, self.follow_ups)

    def reading(self, tenant_id: UUID) -> PostgresUnitOfWork:
        """A query's unit: no ``BEGIN`` or ``COMMIT``, only reads (:class:`Session`'s
        ``read_only``)."""
        return PostgresUnitOfWork(self.pool, tenant_id, self.vectors, self.patterns, read_only=True)

    def writing_tasks(self, follow_ups: FollowUps) -> PostgresUnitOfWorkFactory:
        """The same factory, whose units write their events' follow-up tasks into the local
        task queue (``task_queue``, on the same database) in the commit that stores the events:
        durable exactly when the events are, with no transaction of their own; a task whose
        precondition does not hold there is not written."""
        made = copy.copy(self)
        made.follow_ups = follow_ups
        return made

    def with_hooks(self, hooks: CommitHooks) -> PostgresUnitOfWorkFactory:
        """The same pool and settings, with ``hooks`` around every commit."""
        made = copy.copy(self)
        made.hooks = hooks
        return made


class PostgresDirectory:
    """Token and e-mail lookups across tenants, in the ``directory`` row-security scope (read-only
    sessions: a lookup is one round trip)."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _one(self, query: Any, params: tuple[Any, ...]) -> dict[str, Any] | None:
        async with self._pool.connection() as conn:
            session = Session(conn, None, scope="directory", read_only=True)
            try:
                return await session.fetch_one(query, params)
            finally:
                await session.end()

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        r = await self._one(
            "SELECT t.*, m.role AS member_role FROM api_tokens t"
            " JOIN memberships m ON m.tenant_id = t.tenant_id AND m.user_id = t.user_id WHERE t.token_hash = %s",
            (token_hash,),
        )
        if r is None:
            return None
        token = rows.token(r)
        return token if Role(r["member_role"]).covers(token.role) else replace(token, role=Role(r["member_role"]))

    async def user_by_email(self, email: str) -> User | None:
        r = await self._one("SELECT * FROM users WHERE email = %s", (email.strip().lower(),))
        return rows.user(r) if r else None

    async def memberships(self, user_id: UUID) -> list[Membership]:
        async with self._pool.connection() as conn:
            session = Session(conn, None, scope="directory", read_only=True)
            try:
                found = await session.fetch(
                    "SELECT m.tenant_id, m.user_id, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id"
                    " WHERE m.user_id = %s ORDER BY t.created_at, t.id",
                    (user_id,),
                )
            finally:
                await session.end()
        return [Membership(r["tenant_id"], r["user_id"], r["role"]) for r in found]


class PgScheduleDirectory:
    """Which tenants have a schedule due, read across tenants in the ``directory`` scope."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def _tenants(self, query: LiteralString, params: tuple[Any, ...]) -> list[UUID]:
        async with self._pool.connection() as conn:
            session = Session(conn, None, scope="directory", read_only=True)
            try:
                found = await session.fetch(query, params)
            finally:
                await session.end()
        return [r["tenant_id"] for r in found]

    async def tenants_due(self, day: date) -> list[UUID]:
        return await self._tenants(
            "SELECT DISTINCT tenant_id FROM schedules WHERE active AND next_due <= %s ORDER BY tenant_id", (day,)
        )

    async def tenants_scheduled(self) -> list[UUID]:
        return await self._tenants("SELECT DISTINCT tenant_id FROM schedules WHERE active ORDER BY tenant_id", ())
