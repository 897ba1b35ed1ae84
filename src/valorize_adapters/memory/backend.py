"""Everything in memory, wired: the quickest way to use Valorize as a library."""

from __future__ import annotations

from valorize_adapters.embedders.hashing import HashingEmbedder
from valorize_adapters.memory.audit import MemoryAuditSource
from valorize_adapters.memory.store import MemoryStore
from valorize_adapters.memory.unit_of_work import MemoryDirectory, MemoryScheduleDirectory, MemoryUnitOfWorkFactory
from valorize_adapters.patterns import default_pattern_engine
from valorize_adapters.recurrence import default_recurrence_engine
from valorize_adapters.system import SystemClock, TimeOrderedIds
from valorize_core.app import Valorize
from valorize_core.ports.clock import Clock
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.ids import IdGenerator
from valorize_core.ports.patterns import PatternEngine
from valorize_core.use_cases.context import Ports

__all__ = ["InMemoryBackend"]


class InMemoryBackend:
    """A :class:`MemoryStore` and every in-memory adapter, plus the ready :class:`Valorize`.

    ``patterns`` (default: RE2 when installed, see :func:`default_pattern_engine`) runs the
    regular expressions of rules."""

    def __init__(
        self,
        clock: Clock | None = None,
        ids: IdGenerator | None = None,
        dimensions: int = 256,
        embedder: Embedder | None = None,
        patterns: PatternEngine | None = None,
    ) -> None:
        embedder = embedder or HashingEmbedder(dimensions)
        self.store = MemoryStore(embedder.dimensions)
        self.ports = Ports(
            uow=MemoryUnitOfWorkFactory(self.store),
            clock=clock or SystemClock(),
            ids=ids or TimeOrderedIds(),
            directory=MemoryDirectory(self.store),
            embedder=embedder,
            patterns=patterns or default_pattern_engine(),
            recurrence=default_recurrence_engine(),
        )
        self.app = Valorize(self.ports)
        self.audit = MemoryAuditSource(self.store)
        self.schedules = MemoryScheduleDirectory(self.store)  # which tenants have occurrences due
