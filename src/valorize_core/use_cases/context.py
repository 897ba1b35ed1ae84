"""The ports every use case is built from, bundled once by the composition root."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.events import DomainEvent
from valorize_core.model.patterns import NO_PATTERN_ENGINE
from valorize_core.model.statements.csv_parser import CsvStatementParser
from valorize_core.model.webhooks import WebhookPolicy
from valorize_core.ports.clock import Clock
from valorize_core.ports.embedder import Embedder
from valorize_core.ports.event_publisher import EventPublisher
from valorize_core.ports.identity import IdentityDirectory
from valorize_core.ports.ids import IdGenerator
from valorize_core.ports.patterns import PatternEngine
from valorize_core.ports.recurrence import RecurrenceEngine
from valorize_core.ports.statement_parser import StatementParser
from valorize_core.ports.unit_of_work import UnitOfWorkFactory
from valorize_core.ports.webhooks import WebhookSender
from valorize_core.use_cases.categorization import Categorizer
from valorize_core.use_cases.correlation import current_correlation_id

__all__ = ["NO_RECURRENCE", "NoRecurrence", "Ports"]

E = TypeVar("E", bound=DomainEvent)


class NoRecurrence:
    """The default where no recurrence engine is configured: every schedule is refused."""

    def normalize(self, rule: str, starts_on: date) -> str:
        """Always :class:`ValidationError`."""
        raise ValidationError.for_field(
            "rule", "recurrence rules need an engine and none is configured (install valorize[recurrence])"
        )

    def between(self, rule: str, starts_on: date, first: date, last: date, limit: int = 1000) -> list[date]:
        """No dates: nothing was ever scheduled without an engine."""
        return []


NO_RECURRENCE = NoRecurrence()


@dataclass(frozen=True, slots=True)
class Ports:
    """Adapters for the core's ports. Without an ``embedder`` the neighbour stage is skipped;
    ``parsers`` maps statement formats to parsers (CSV is built in); ``publisher``, when given,
    receives news that is not state (import progress) directly, bypassing the outbox;
    ``patterns`` compiles the regular expressions of rules (without one they are refused);
    ``recurrence`` evaluates the RRULEs of schedules (without one they are refused);
    ``webhook_sender`` makes outbound webhook calls (without one, endpoints cannot be added and
    deliveries wait), as ``webhook_policy`` says."""

    uow: UnitOfWorkFactory
    clock: Clock
    ids: IdGenerator
    directory: IdentityDirectory
    embedder: Embedder | None = None
    parsers: Mapping[str, StatementParser] = field(default_factory=lambda: {"csv": CsvStatementParser()})
    publisher: EventPublisher | None = None
    patterns: PatternEngine = NO_PATTERN_ENGINE
    recurrence: RecurrenceEngine = NO_RECURRENCE
    webhook_sender: WebhookSender | None = None
    webhook_policy: WebhookPolicy = field(default_factory=WebhookPolicy)
    categorizer: Categorizer = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categorizer", Categorizer(self.embedder))

    def event(self, event_type: type[E], tenant_id: UUID, /, **fields: Any) -> E:
        """A new event of ``event_type`` with a fresh id, the current time and correlation id."""
        return event_type(
            event_id=self.ids.new_id(),
            tenant_id=tenant_id,
            occurred_at=self.clock.now(),
            correlation_id=current_correlation_id(),
            **fields,
        )
