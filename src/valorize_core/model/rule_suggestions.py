"""Rule suggestions: when a person keeps putting a payee in the same category, offer a rule.

After a correction, if at least ``SUGGEST_AFTER`` of the payee's last ``MEMORY_WINDOW``
categories agree and no enabled rule already categorizes that payee, Valorize proposes
"payee equals <payee> → set category". The person accepts (the rule is created, after the
existing ones) or dismisses it (it is not proposed again for that payee and category).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from valorize_core.model.payees import display_payee
from valorize_core.model.rules import Condition, ConditionGroup, Field, Match, Operator, SetCategory
from valorize_core.model.text import parse_choice

__all__ = ["SUGGEST_AFTER", "RuleSuggestion", "SuggestionStatus"]

SUGGEST_AFTER = 3


class SuggestionStatus(enum.StrEnum):
    """Where a suggestion is."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class RuleSuggestion:
    """A proposed rule for one payee and category, with the evidence behind it."""

    id: UUID
    tenant_id: UUID
    payee_key: str
    category_id: UUID
    agreeing: int
    total: int
    status: SuggestionStatus
    created_at: datetime
    decided_at: datetime | None = None
    rule_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "status", parse_choice(SuggestionStatus, self.status, "status"))

    @property
    def payee(self) -> str:
        """The payee as people read it."""
        return display_payee(self.payee_key)

    @property
    def reason(self) -> str:
        """Why it is proposed."""
        return f"you put {self.payee!r} in this category {self.agreeing} of the last {self.total} times"

    def conditions(self) -> ConditionGroup:
        """What the proposed rule matches: transactions of this payee."""
        return ConditionGroup(Match.ALL, (Condition(Field.PAYEE, Operator.EQUALS, self.payee),))

    def actions(self) -> tuple[SetCategory]:
        """What the proposed rule does."""
        return (SetCategory(self.category_id),)
