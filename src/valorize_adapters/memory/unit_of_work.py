"""The in-memory unit of work: staged snapshot, swapped in on commit, dropped on rollback."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from types import TracebackType
from uuid import UUID

from valorize_adapters.memory.repositories import (
    MemoryAccounts,
    MemoryBalanceAlerts,
    MemoryBudgets,
    MemoryCategories,
    MemoryIdentity,
    MemoryImports,
    MemoryJobs,
    MemoryNotifications,
    MemoryPayees,
    MemoryProcessedTasks,
    MemoryRates,
    MemoryRules,
    MemoryRuleSuggestions,
    MemorySchedules,
    MemorySubscriptions,
    MemoryTransactions,
    MemoryWebhooks,
)
from valorize_adapters.memory.store import MemoryStore, TenantData
from valorize_adapters.memory.tasks import InMemoryTaskQueue
from valorize_adapters.memory.vector_index import MemoryExamples
from valorize_core.model.events import DomainEvent
from valorize_core.model.follow_ups import Precondition
from valorize_core.model.identity import ApiToken, Membership, User
from valorize_core.ports.idempotency import key_to_mark
from valorize_core.ports.task_queue import Task
from valorize_core.ports.unit_of_work import NO_HOOKS, CommitHooks
from valorize_core.runtime.pipeline import UnitOfWorkBase

__all__ = ["MemoryDirectory", "MemoryScheduleDirectory", "MemoryUnitOfWork", "MemoryUnitOfWorkFactory"]

FollowUps = Callable[[Sequence[DomainEvent], Callable[[Precondition], bool]], Sequence[Task]]


class MemoryUnitOfWork(UnitOfWorkBase):
    """One tenant's atomic unit over a :class:`MemoryStore`.

    Units of work of one tenant run one at a time (a per-tenant lock), so they are serializable.
    Events and commit hooks are :class:`UnitOfWorkBase`'s.
    """

    def __init__(
        self,
        store: MemoryStore,
        tenant_id: UUID,
        hooks: CommitHooks = NO_HOOKS,
        *,
        read_only: bool = False,
        tasks: tuple[FollowUps, InMemoryTaskQueue] | None = None,
    ) -> None:
        super().__init__(tenant_id, hooks, read_only=read_only)
        self._store = store
        self._tasks = tasks
        self._data = TenantData()
        self._bind(self._data)

    def _bind(self, data: TenantData) -> None:
        self._data = data
        self.accounts = MemoryAccounts(data, self.tenant_id)
        self.categories = MemoryCategories(data, self.tenant_id)
        self.transactions = MemoryTransactions(data, self.tenant_id)
        self.budgets = MemoryBudgets(data, self.tenant_id)
        self.rules = MemoryRules(data, self.tenant_id)
        self.imports = MemoryImports(data, self.tenant_id)
        self.jobs = MemoryJobs(data, self.tenant_id)
        self.rates = MemoryRates(data, self._store)
        self.rule_suggestions = MemoryRuleSuggestions(data, self.tenant_id)
        self.notifications = MemoryNotifications(data, self.tenant_id)
        self.webhooks = MemoryWebhooks(data, self.tenant_id)
        self.payees = MemoryPayees(data, self.tenant_id)
        self.identity = MemoryIdentity(data, self.tenant_id, self._store)
        self.examples = MemoryExamples(data, self._store.dimensions, self._store.postings, self.tenant_id)
        self.processed = MemoryProcessedTasks(data, self.tenant_id)
        self.schedules = MemorySchedules(data, self.tenant_id)
        self.subscriptions = MemorySubscriptions(data, self.tenant_id)
        self.balance_alerts = MemoryBalanceAlerts(data, self.tenant_id)

    async def _open(self) -> None:
        self._lock = self._store.lock(self.tenant_id)
        await self._lock.acquire()
        self._bind(self._store.data(self.tenant_id).snapshot())

    async def _write(self, events: Sequence[DomainEvent]) -> None:
        """Swap the staged snapshot in and append the events to the outbox. A unit that changed
        something while its request holds an Idempotency-Key marks its claim applied, as the
        PostgreSQL unit does in its commit (and fails, swapping nothing, when the claim is gone)."""
        self._check_global_uniqueness()
        held = key_to_mark(self.tenant_id)
        # The snapshot noted its writes (TenantData.wrote: O(1), not a comparison of every map
        # with the committed ones). Marked before the swap: a claim retaken meanwhile refuses
        # the write (nothing swapped in).
        if held is not None and (events or self._data.wrote):
            self._store.mark_applied(self.tenant_id, *held)
        self._store.shared_rates.update(self._data.shared_rates_staged)
        self._data.shared_rates_staged = {}
        self._store.tenants[self.tenant_id] = self._data
        self._store.outbox.extend(events)
        if self._tasks is not None and events:
            self._enqueue(*self._tasks, events)
        self._bind(self._data.snapshot())

    def _enqueue(self, follow_ups: FollowUps, queue: InMemoryTaskQueue, events: Sequence[DomainEvent]) -> None:
        """The events' follow-up tasks, in the commit (nothing awaited since the swap): only those
        whose precondition holds of the data just committed, as the PostgreSQL unit decides."""
        has_budget, endpoints = bool(self._data.budgets), self._data.webhook_endpoints.values()

        def holds(precondition: Precondition) -> bool:
            return precondition.holds(has_budget, endpoints)

        for task in follow_ups(events, holds):  # the shared tasks that cannot act are not even made
            if task.precondition is None or holds(task.precondition):
                queue.put(task)

    async def _discard(self) -> None:
        """Drop every staged change."""
        self._bind(self._store.data(self.tenant_id).snapshot())

    async def _close(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            # The staged copy is dropped: the unit is over, so its repositories get nothing (a
            # fresh snapshot here would copy every map of the tenant for no reader).
            self._bind(TenantData())
        finally:
            self._lock.release()

    def _check_global_uniqueness(self) -> None:
        from valorize_core.model.errors import Conflict

        emails = {
            u.email: u.id for t, d in self._store.tenants.items() if t != self.tenant_id for u in d.users.values()
        }
        hashes = {
            k.token_hash for t, d in self._store.tenants.items() if t != self.tenant_id for k in d.tokens.values()
        }
        for user in self._data.users.values():
            if emails.get(user.email, user.id) != user.id:
                raise Conflict("that e-mail is already registered")
        for token in self._data.tokens.values():
            if token.token_hash in hashes:
                raise Conflict("token exists")


class MemoryUnitOfWorkFactory:
    """Opens :class:`MemoryUnitOfWork` s over one store, running ``hooks`` around their commits."""

    def __init__(self, store: MemoryStore, hooks: CommitHooks = NO_HOOKS) -> None:
        self.store = store
        self.hooks = hooks
        self.tasks: tuple[FollowUps, InMemoryTaskQueue] | None = None

    def __call__(self, tenant_id: UUID) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, tenant_id, self.hooks, tasks=self.tasks)

    def writing_tasks(self, follow_ups: FollowUps, queue: InMemoryTaskQueue) -> MemoryUnitOfWorkFactory:
        """The same store, whose units put their events' follow-up tasks on ``queue`` in the
        commit, as the PostgreSQL factory writes them into its task table: only the tasks whose
        precondition holds."""
        made = copy.copy(self)
        made.tasks = (follow_ups, queue)
        return made

    def reading(self, tenant_id: UUID) -> MemoryUnitOfWork:
        """A unit that only reads (it refuses to commit)."""
        return MemoryUnitOfWork(self.store, tenant_id, read_only=True)

    def with_hooks(self, hooks: CommitHooks) -> MemoryUnitOfWorkFactory:
        """The same store, with ``hooks`` around every commit."""
        made = copy.copy(self)
        made.hooks = hooks
        return made


class MemoryDirectory:
    """Cross-tenant lookups over committed data."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def token_by_hash(self, token_hash: str) -> ApiToken | None:
        token = self._store.tokens_by_hash().get(token_hash)
        if token is None:
            return None
        membership = self._store.data(token.tenant_id).memberships.get(token.user_id)
        if membership is None:
            return None
        return token if membership.role.covers(token.role) else replace(token, role=membership.role)

    async def user_by_email(self, email: str) -> User | None:
        return self._store.users_by_email().get(email.strip().lower())

    async def memberships(self, user_id: UUID) -> list[Membership]:
        found = [
            (data.tenant.created_at if data.tenant else None, m)
            for data in self._store.tenants.values()
            for m in data.memberships.values()
            if m.user_id == user_id
        ]
        return [m for _, m in sorted(found, key=lambda pair: (pair[0] is None, pair[0], str(pair[1].tenant_id)))]


class MemoryScheduleDirectory:
    """Which tenants have a schedule due, over committed data."""

    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    async def tenants_due(self, day: date) -> list[UUID]:
        return sorted(
            tenant_id
            for tenant_id, data in list(self._store.tenants.items())
            if any(s.active and s.next_due is not None and s.next_due <= day for s in data.schedules.values())
        )

    async def tenants_scheduled(self) -> list[UUID]:
        return sorted(
            t for t, data in list(self._store.tenants.items()) if any(s.active for s in data.schedules.values())
        )
