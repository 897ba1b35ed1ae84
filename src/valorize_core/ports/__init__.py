"""Ports: what the core needs from the outside world, one ``typing.Protocol`` per module.

Repositories are reached through a :class:`~valorize_core.ports.unit_of_work.UnitOfWork`,
which is bound to one tenant: a repository can only ever see that tenant's rows.
"""

from valorize_core.ports.accounts import AccountRepository
from valorize_core.ports.budgets import BudgetRepository
from valorize_core.ports.cache import Cache
from valorize_core.ports.categories import CategoryRepository
from valorize_core.ports.clock import Clock
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.event_subscriber import Delivery, EventSubscriber
from valorize_core.ports.idempotency import IdempotencyStore
from valorize_core.ports.identity import IdentityDirectory, IdentityRepository
from valorize_core.ports.ids import IdGenerator
from valorize_core.ports.imports import ImportRepository
from valorize_core.ports.payee_memory import PayeeMemoryRepository
from valorize_core.ports.rates import RateRepository, RateSource
from valorize_core.ports.rules import RuleRepository
from valorize_core.ports.task_queue import Task, TaskQueue
from valorize_core.ports.transactions import TransactionRepository
from valorize_core.ports.unit_of_work import UnitOfWork, UnitOfWorkFactory
from valorize_core.ports.vector_index import Neighbour, VectorIndex

__all__ = [
    "AccountRepository",
    "BudgetRepository",
    "Cache",
    "CategoryRepository",
    "Clock",
    "Delivery",
    "Embedder",
    "EventPublisher",
    "EventSubscriber",
    "IdGenerator",
    "IdempotencyStore",
    "IdentityDirectory",
    "IdentityRepository",
    "ImportRepository",
    "Neighbour",
    "PayeeMemoryRepository",
    "RateRepository",
    "RateSource",
    "RuleRepository",
    "Task",
    "TaskQueue",
    "TransactionRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "VectorIndex",
]
