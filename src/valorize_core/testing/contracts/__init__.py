"""The contract suites every adapter of Valorize's ports must pass.

Subclass a suite (or :class:`AllRepositoryContracts`) in your own tests and provide the
``ports`` fixture returning the :class:`~valorize_core.use_cases.context.Ports` under test, plus
``outbox`` (a callable returning the event ids committed for a tenant)::

    class TestMyAdapter(AllRepositoryContracts):
        @pytest.fixture
        def ports(self): return my_ports()

        @pytest.fixture
        def outbox(self): return lambda tenant_id: my_outbox_ids(tenant_id)

Valorize runs the same suites against its in-memory and PostgreSQL adapters.
"""

from valorize_core.testing.contracts.base import PortsContract
from valorize_core.testing.contracts.cache import CacheContract
from valorize_core.testing.contracts.event_bus import EventBusContract
from valorize_core.testing.contracts.idempotency import IdempotencyContract
from valorize_core.testing.contracts.identity import IdentityContract
from valorize_core.testing.contracts.rates import RateRepositoryContract
from valorize_core.testing.contracts.repositories import (
    AccountRepositoryContract,
    BudgetRepositoryContract,
    CategoryRepositoryContract,
    ImportRepositoryContract,
    JobRepositoryContract,
    NotificationRepositoryContract,
    PayeeMemoryContract,
    RuleRepositoryContract,
    RuleSuggestionRepositoryContract,
)
from valorize_core.testing.contracts.schedules import (
    BalanceAlertRepositoryContract,
    ScheduleRepositoryContract,
    SubscriptionRepositoryContract,
)
from valorize_core.testing.contracts.transactions import TransactionRepositoryContract
from valorize_core.testing.contracts.unit_of_work import CommitPipelineContract, UnitOfWorkContract
from valorize_core.testing.contracts.vector_index import VectorIndexContract
from valorize_core.testing.contracts.webhooks import WebhookRepositoryContract

__all__ = [
    "AccountRepositoryContract",
    "AllRepositoryContracts",
    "BalanceAlertRepositoryContract",
    "BudgetRepositoryContract",
    "CacheContract",
    "CategoryRepositoryContract",
    "CommitPipelineContract",
    "EventBusContract",
    "IdempotencyContract",
    "IdentityContract",
    "ImportRepositoryContract",
    "JobRepositoryContract",
    "NotificationRepositoryContract",
    "PayeeMemoryContract",
    "PortsContract",
    "RateRepositoryContract",
    "RuleRepositoryContract",
    "RuleSuggestionRepositoryContract",
    "ScheduleRepositoryContract",
    "SubscriptionRepositoryContract",
    "TransactionRepositoryContract",
    "UnitOfWorkContract",
    "VectorIndexContract",
    "WebhookRepositoryContract",
]


class AllRepositoryContracts(
    UnitOfWorkContract,
    CommitPipelineContract,
    AccountRepositoryContract,
    CategoryRepositoryContract,
    TransactionRepositoryContract,
    BudgetRepositoryContract,
    RuleRepositoryContract,
    ImportRepositoryContract,
    JobRepositoryContract,
    NotificationRepositoryContract,
    RuleSuggestionRepositoryContract,
    ScheduleRepositoryContract,
    SubscriptionRepositoryContract,
    BalanceAlertRepositoryContract,
    PayeeMemoryContract,
    RateRepositoryContract,
    IdentityContract,
    VectorIndexContract,
    WebhookRepositoryContract,
):
    """Every storage contract at once."""
