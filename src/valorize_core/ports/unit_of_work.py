"""Port: the atomic boundary of every write, and the hooks its commits run."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self
from uuid import UUID

from valorize_core.model.events import DomainEvent
from valorize_core.ports.accounts import AccountRepository
from valorize_core.ports.balance_alerts import BalanceAlertRepository
from valorize_core.ports.budgets import BudgetRepository
from valorize_core.ports.categories import CategoryRepository
from valorize_core.ports.identity import IdentityRepository
from valorize_core.ports.imports import ImportRepository
from valorize_core.ports.jobs import JobRepository
from valorize_core.ports.notifications import NotificationRepository
from valorize_core.ports.payee_memory import PayeeMemoryRepository
from valorize_core.ports.processed_tasks import ProcessedTaskRepository
from valorize_core.ports.rates import RateRepository
from valorize_core.ports.rule_suggestions import RuleSuggestionRepository
from valorize_core.ports.rules import RuleRepository
from valorize_core.ports.schedules import ScheduleRepository
from valorize_core.ports.subscriptions import SubscriptionRepository
from valorize_core.ports.transactions import TransactionRepository
from valorize_core.ports.vector_index import VectorIndex
from valorize_core.ports.webhooks import WebhookRepository

__all__ = ["NO_HOOKS", "CommitHook", "CommitHooks", "ReadOnlyUnit", "UnitOfWork", "UnitOfWorkFactory"]


class ReadOnlyUnit(Protocol):
    """One tenant's repositories, for reading only: what a query opens
    (``async with uow_factory.reading(tenant_id) as uow: ...``).

    It cannot commit, record events or declare read scopes, and an adapter may refuse any write
    a repository would send (PostgreSQL runs its reads in no explicit transaction, each round
    trip in its own read-only one: docs/postgres.md, "Read-only units"). Each read sees what was
    committed when it ran, as a unit of work's reads do (read committed).
    """

    @property
    def tenant_id(self) -> UUID:
        """The tenant every repository of this unit is bound to."""
        ...

    @property
    def accounts(self) -> AccountRepository:
        """The tenant's accounts."""
        ...

    @property
    def categories(self) -> CategoryRepository:
        """The tenant's categories."""
        ...

    @property
    def transactions(self) -> TransactionRepository:
        """The tenant's transactions."""
        ...

    @property
    def budgets(self) -> BudgetRepository:
        """The tenant's budgets."""
        ...

    @property
    def rules(self) -> RuleRepository:
        """The tenant's rules."""
        ...

    @property
    def imports(self) -> ImportRepository:
        """The tenant's imports."""
        ...

    @property
    def rule_suggestions(self) -> RuleSuggestionRepository:
        """The tenant's rule suggestions."""
        ...

    @property
    def rates(self) -> RateRepository:
        """The tenant's exchange rates and the global defaults."""
        ...

    @property
    def schedules(self) -> ScheduleRepository:
        """The tenant's schedules and their handled occurrences."""
        ...

    @property
    def subscriptions(self) -> SubscriptionRepository:
        """The tenant's confirmed and dismissed subscriptions."""
        ...

    @property
    def balance_alerts(self) -> BalanceAlertRepository:
        """The tenant's low-balance alerts and their announcements."""
        ...

    @property
    def jobs(self) -> JobRepository:
        """The tenant's background jobs."""
        ...

    @property
    def notifications(self) -> NotificationRepository:
        """The tenant's notifications."""
        ...

    @property
    def webhooks(self) -> WebhookRepository:
        """The tenant's webhook endpoints and deliveries."""
        ...

    @property
    def payees(self) -> PayeeMemoryRepository:
        """The tenant's payees."""
        ...

    @property
    def processed(self) -> ProcessedTaskRepository:
        """Ids of tasks whose effects this tenant committed (redeliveries do nothing)."""
        ...

    @property
    def examples(self) -> VectorIndex:
        """The tenant's labeled examples for the neighbour categorizer."""
        ...

    @property
    def identity(self) -> IdentityRepository:
        """The tenant's identity."""
        ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class UnitOfWork(ReadOnlyUnit, Protocol):
    """One tenant, one atomic transaction: rows, balances and outbox events, all or nothing.

    Use it as ``async with uow_factory(tenant_id) as uow: ...; await uow.commit()``. Leaving
    the block without ``commit()`` (or by an exception) rolls everything back, recorded events
    included. Events recorded with :meth:`record` are written to the outbox in the same
    transaction; after a commit :attr:`committed_events` holds them for immediate publishing.
    Every commit runs the factory's :class:`CommitHooks` (see :mod:`valorize_core.runtime.pipeline`).
    """

    def record(self, event: DomainEvent) -> None:
        """Add an event to the outbox of this transaction."""
        ...

    def retires(self, *scopes: str) -> None:
        """Declare the read scopes (:mod:`valorize_core.model.read_scopes`) this unit's writes
        change, before committing; a unit that declares none retires its tenant's every read."""
        ...

    @property
    def retired_scopes(self) -> frozenset[str] | None:
        """The read scopes declared so far; ``None``: none declared (the whole tenant)."""
        ...

    async def commit(self) -> None:
        """Make every change and recorded event durable at once."""
        ...

    async def rollback(self) -> None:
        """Discard every change and recorded event."""
        ...

    @property
    def committed_events(self) -> list[DomainEvent]:
        """Events made durable by this unit's commits, in order."""
        ...


CommitHook = Callable[[UnitOfWork], Awaitable[None]]
"""A step of the commit pipeline, given the unit whose commit it is part of."""


@dataclass(frozen=True, slots=True)
class CommitHooks:
    """What every commit of a factory's units runs, each tuple in its order.

    ``before`` runs inside the transaction just before it commits (an exception aborts the
    commit); ``after`` runs once a unit that committed is left, its connection released, and
    sees every event the unit committed. The composition root decides both lists, in one place.
    """

    before: tuple[CommitHook, ...] = ()
    after: tuple[CommitHook, ...] = ()


NO_HOOKS = CommitHooks()
"""A bare factory's: commits run no hooks."""


class UnitOfWorkFactory(Protocol):
    """Opens a unit of work bound to a tenant."""

    def __call__(self, tenant_id: UUID) -> UnitOfWork: ...

    def reading(self, tenant_id: UUID) -> ReadOnlyUnit:
        """A read-only unit bound to a tenant: what queries open (it never commits)."""
        ...

    def with_hooks(self, hooks: CommitHooks) -> UnitOfWorkFactory:
        """The same factory (same storage), whose units run ``hooks`` (instead of its own)."""
        ...
