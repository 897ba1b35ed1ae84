"""The commit pipeline: the one unit-of-work base, which records events and runs ordered hooks.

Each adapter's unit of work derives from :class:`UnitOfWorkBase` and supplies only its storage
(open, write the changes and events atomically, discard, release); its repositories are its
own attributes, so no wrapper ever re-declares them. The base runs every unit the same way:

``record(event)``
    stages an event for the outbox (``rollback()`` drops it with the changes).
``retires(*scopes)``
    declares which read scopes (:mod:`valorize_core.model.read_scopes`) the unit's writes
    change; a unit that declares nothing retires every cached read of its tenant.
``commit()``, inside the transaction, in this order (an exception aborts the commit):
    1. the hooks of the running context (:func:`before_every_commit`): a background task's
       idempotency mark, so a redelivery is abandoned before anything else happens;
    2. the factory's :attr:`CommitHooks.before <valorize_core.ports.unit_of_work.CommitHooks>`,
       in order (the read cache's write hold);
    3. the adapter's atomic write of the changes and the events, and its commit.
leaving the unit
    the adapter releases it (anything uncommitted rolled back, the connection or lock given
    back); then, if it committed, the factory's ``CommitHooks.after`` in order, each seeing
    every event the unit committed. An after-commit hook should not raise: the rest still run,
    and the first failure is raised after them.

Which hooks a factory's units run, and in what order, is decided in one place: the composition
root (``valorize_entrypoints.container._wired``): before commit the cache's write hold; after
commit the cache's retirement of the tenant's reads, before any event leaves, then the relay.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType
from typing import Self, cast
from uuid import UUID

from valorize_core.model.events import DomainEvent
from valorize_core.ports.unit_of_work import NO_HOOKS, CommitHook, CommitHooks, UnitOfWork

__all__ = ["UnitOfWorkBase", "before_every_commit"]

_CONTEXT_HOOKS: ContextVar[tuple[CommitHook, ...]] = ContextVar("valorize_commit_hooks", default=())


@contextmanager
def before_every_commit(hook: CommitHook) -> Iterator[None]:
    """Inside this block, every unit of work committed in this context (concurrent asyncio
    tasks each have their own) runs ``hook`` first, before the factory's hooks."""
    token = _CONTEXT_HOOKS.set((*_CONTEXT_HOOKS.get(), hook))
    try:
        yield
    finally:
        _CONTEXT_HOOKS.reset(token)


class UnitOfWorkBase(ABC):
    """Events, commit hooks and the order they run in; subclasses supply the storage and the
    repositories of the :class:`~valorize_core.ports.unit_of_work.UnitOfWork` port."""

    def __init__(self, tenant_id: UUID, hooks: CommitHooks = NO_HOOKS, *, read_only: bool = False) -> None:
        """``read_only``: a :class:`~valorize_core.ports.unit_of_work.ReadOnlyUnit` (a query's),
        which refuses to commit."""
        self.tenant_id = tenant_id
        self.hooks = hooks
        self.read_only = read_only
        self._staged: list[DomainEvent] = []
        self._committed: list[DomainEvent] = []
        self._did_commit = False
        self._scopes: set[str] | None = None
        self._committed_undeclared = False

    # -- what an adapter supplies ------------------------------------------------------------
    @abstractmethod
    async def _open(self) -> None:
        """Begin: take a connection (or lock) and bind the repositories to it."""

    @abstractmethod
    async def _write(self, events: Sequence[DomainEvent]) -> None:
        """Make the changes and ``events`` (the outbox) durable at once."""

    @abstractmethod
    async def _discard(self) -> None:
        """Drop every change not committed."""

    @abstractmethod
    async def _close(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """Drop what is not committed and give the connection (or lock) back (the unit is left
        with the exception given, if any)."""

    # -- the port ----------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        self._staged, self._committed, self._did_commit, self._scopes = [], [], False, None
        self._committed_undeclared = False
        await self._open()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self._close(exc_type, exc, tb)
        finally:
            if self._did_commit:
                self._did_commit = False
                await self._after_commit()

    def record(self, event: DomainEvent) -> None:
        """Stage an event for the outbox."""
        self._staged.append(event)

    def retires(self, *scopes: str) -> None:
        """Declare read scopes this unit's writes change (none at all: call it with none).

        Declare before :meth:`commit`: its hooks retire what is declared by then. A unit that
        never calls this retires its tenant's every cached read (correct beats fast).
        """
        if self._scopes is None:
            self._scopes = set()
        self._scopes.update(scopes)

    @property
    def retired_scopes(self) -> frozenset[str] | None:
        """The read scopes declared so far; ``None``: the whole tenant (none declared, or a
        commit of this unit happened before anything was declared)."""
        if self._scopes is None or self._committed_undeclared:
            return None
        return frozenset(self._scopes)

    async def commit(self) -> None:
        """Run the before-commit hooks, then write the changes and events at once."""
        if self.read_only:
            raise RuntimeError("a read-only unit cannot commit")
        unit = self._unit()
        self._committed_undeclared = self._committed_undeclared or self._scopes is None
        for hook in (*_CONTEXT_HOOKS.get(), *self.hooks.before):
            await hook(unit)
        events, self._staged = self._staged, []
        await self._write(events)  # a failed write drops the staged events with the transaction
        self._committed.extend(events)
        self._did_commit = True

    async def rollback(self) -> None:
        """Discard every change and staged event."""
        self._staged = []
        await self._discard()

    @property
    def committed_events(self) -> list[DomainEvent]:
        """Events made durable by this unit's commits, in order."""
        return list(self._committed)

    async def _after_commit(self) -> None:
        unit = self._unit()
        failure: Exception | None = None
        for hook in self.hooks.after:
            try:
                await hook(unit)
            except Exception as exc:  # the rest still run: the commit has happened
                failure = failure or exc
        if failure is not None:
            raise failure

    def _unit(self) -> UnitOfWork:
        # Every concrete subclass is a UnitOfWork (its repositories are its own attributes; the
        # contract suite runs against each); the base only knows the part it implements.
        return cast("UnitOfWork", self)
