"""In-memory adapters for every port: fast, exact, and held to the same contract suite."""

from valorize_adapters.memory.backend import InMemoryBackend
from valorize_adapters.memory.cache import InMemoryCache
from valorize_adapters.memory.clock import ManualClock
from valorize_adapters.memory.events import InMemoryEventBus, InMemorySubscriber
from valorize_adapters.memory.store import MemoryStore
from valorize_adapters.memory.tasks import InMemoryTaskQueue
from valorize_adapters.memory.unit_of_work import MemoryUnitOfWork, MemoryUnitOfWorkFactory
from valorize_adapters.memory.vector_index import MemoryExamples

__all__ = [
    "InMemoryBackend",
    "InMemoryCache",
    "InMemoryEventBus",
    "InMemorySubscriber",
    "InMemoryTaskQueue",
    "ManualClock",
    "MemoryExamples",
    "MemoryStore",
    "MemoryUnitOfWork",
    "MemoryUnitOfWorkFactory",
]
