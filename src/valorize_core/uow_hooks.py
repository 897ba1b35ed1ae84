"""A unit of work with hooks around its commit: the one mechanism behind cache invalidation
(after commit) and task idempotency (before commit, in the same transaction)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self
from uuid import UUID

from valorize_core.events import DomainEvent
from valorize_core.ports.accounts import AccountRepository
from valorize_core.ports.budgets import BudgetRepository
from valorize_core.ports.categories import CategoryRepository
from valorize_core.ports.identity import IdentityRepository
from valorize_core.ports.imports import ImportRepository
from valorize_core.ports.jobs import JobRepository
from valorize_core.ports.notifications import NotificationRepository
from valorize_core.ports.payee_memory import PayeeMemoryRepository
from valorize_core.ports.processed_tasks import ProcessedTaskRepository
from valorize_core.ports.rule_suggestions import RuleSuggestionRepository
from valorize_core.ports.rules import RuleRepository
from valorize_core.ports.transactions import TransactionRepository
from valorize_core.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from valorize_core.ports.vector_index import VectorIndex

__all__ = ["HookedUnitOfWorkFactory"]

Hook = Callable[..., Awaitable[object]]


class HookedUnitOfWorkFactory:
    """Wraps a factory: ``before_commit(uow)`` runs inside the transaction just before commit
    (an exception aborts the commit); ``after_commit(uow)`` runs when the unit is left after a
    successful commit — once its connection is released, so a hook that needs the database
    cannot starve the pool — and sees every event the unit committed."""

    def __init__(
        self, inner: UnitOfWorkFactory, *, before_commit: Hook | None = None, after_commit: Hook | None = None
    ) -> None:
        self.inner = inner
        self._before = before_commit
        self._after = after_commit

    def __call__(self, tenant_id: UUID) -> UnitOfWork:
        return _HookedUnitOfWork(self.inner(tenant_id), self._before, self._after)


class _HookedUnitOfWork:
    def __init__(self, inner: UnitOfWork, before: Hook | None, after: Hook | None) -> None:
        self._inner = inner
        self._before = before
        self._after = after
        self._committed: list[DomainEvent] = []
        self._did_commit = False

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        self._committed, self._did_commit = [], False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._inner.__aexit__(exc_type, exc, tb)
        if self._did_commit and self._after is not None:
            await self._after(self)

    async def commit(self) -> None:
        if self._before is not None:
            await self._before(self._inner)
        await self._inner.commit()
        self._did_commit = True
        self._committed.extend(self._inner.committed_events)

    async def rollback(self) -> None:
        await self._inner.rollback()

    def record(self, event: DomainEvent) -> None:
        self._inner.record(event)

    @property
    def committed_events(self) -> list[DomainEvent]:
        return list(self._committed)

    @property
    def tenant_id(self) -> UUID:
        return self._inner.tenant_id

    @property
    def accounts(self) -> AccountRepository:
        return self._inner.accounts

    @property
    def categories(self) -> CategoryRepository:
        return self._inner.categories

    @property
    def transactions(self) -> TransactionRepository:
        return self._inner.transactions

    @property
    def budgets(self) -> BudgetRepository:
        return self._inner.budgets

    @property
    def rules(self) -> RuleRepository:
        return self._inner.rules

    @property
    def imports(self) -> ImportRepository:
        return self._inner.imports

    @property
    def rule_suggestions(self) -> RuleSuggestionRepository:
        return self._inner.rule_suggestions

    @property
    def jobs(self) -> JobRepository:
        return self._inner.jobs

    @property
    def notifications(self) -> NotificationRepository:
        return self._inner.notifications

    @property
    def payees(self) -> PayeeMemoryRepository:
        return self._inner.payees

    @property
    def identity(self) -> IdentityRepository:
        return self._inner.identity

    @property
    def examples(self) -> VectorIndex:
        return self._inner.examples

    @property
    def processed(self) -> ProcessedTaskRepository:
        return self._inner.processed
