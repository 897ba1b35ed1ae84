"""Actions: accept a rule suggestion (the rule is created) or dismiss it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from uuid import UUID

from valorize_core.model.errors import Conflict
from valorize_core.model.rule_suggestions import RuleSuggestion, SuggestionStatus
from valorize_core.model.rules import Rule
from valorize_core.model.rules.ordering import placed
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require, require_categories

__all__ = ["AcceptRuleSuggestion", "DismissRuleSuggestion", "SuggestionDecision"]


@dataclass(frozen=True, slots=True)
class SuggestionDecision:
    """Which suggestion."""

    tenant_id: UUID
    suggestion_id: UUID


async def _held(uow: UnitOfWork, suggestion_id: UUID) -> RuleSuggestion:
    """The suggestion, held until the unit of work ends: of two decisions at once, the second
    reads the first's and is a :class:`Conflict`."""
    return await require(partial(uow.rule_suggestions.get, for_update=True), suggestion_id, "rule suggestion")


class AcceptRuleSuggestion:
    """Creates the suggested rule after the existing ones and marks the suggestion accepted."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, decision: SuggestionDecision) -> tuple[RuleSuggestion, Rule]:
        """The accepted suggestion and its new rule."""
        async with self._ports.uow(decision.tenant_id) as uow:
            await uow.rules.hold_order()  # first, as every action that changes the order takes it
            suggestion = await _held(uow, decision.suggestion_id)
            if suggestion.status is not SuggestionStatus.PENDING:
                raise Conflict(f"the suggestion was already {suggestion.status.value}")
            await require_categories(uow, [suggestion.category_id], "category_id", hold=True)
            existing = await uow.rules.list()
            now = self._ports.clock.now()
            rule = Rule(
                id=self._ports.ids.new_id(), tenant_id=decision.tenant_id, name=f"{suggestion.payee} (suggested)"[:200],
                position=len(existing), conditions=suggestion.conditions(),
                actions=suggestion.actions(), created_at=now,
            )  # fmt: skip
            rule, shifted = placed(existing, rule, None)  # last; an order with gaps is closed up
            for other in shifted:
                await uow.rules.update(other)
            await uow.rules.add(rule)
            accepted = replace(suggestion, status=SuggestionStatus.ACCEPTED, decided_at=now, rule_id=rule.id)
            await uow.rule_suggestions.update(accepted)
            uow.retires()  # rules and suggestions: no cached read shows them
            await uow.commit()
        return accepted, rule


class DismissRuleSuggestion:
    """Marks a pending suggestion dismissed: it is not proposed again."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, decision: SuggestionDecision) -> RuleSuggestion:
        """The dismissed suggestion."""
        async with self._ports.uow(decision.tenant_id) as uow:
            suggestion = await _held(uow, decision.suggestion_id)
            if suggestion.status is not SuggestionStatus.PENDING:
                raise Conflict(f"the suggestion was already {suggestion.status.value}")
            dismissed = replace(suggestion, status=SuggestionStatus.DISMISSED, decided_at=self._ports.clock.now())
            await uow.rule_suggestions.update(dismissed)
            uow.retires()  # rules and suggestions: no cached read shows them
            await uow.commit()
        return dismissed
