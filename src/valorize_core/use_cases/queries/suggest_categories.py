"""Query: the top category suggestions for a transaction, each with its reason."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.rules import apply_rules
from valorize_core.use_cases.categorization import Suggestion
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["SuggestCategories", "SuggestionQuery"]


@dataclass(frozen=True, slots=True)
class SuggestionQuery:
    """Which transaction, and how many suggestions."""

    tenant_id: UUID
    transaction_id: UUID
    limit: int = 3


class SuggestCategories:
    """Rule, memory and neighbour suggestions, best first, one per category."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: SuggestionQuery) -> list[Suggestion]:
        """Run the query."""
        async with self._ports.uow(query.tenant_id) as uow:
            tx = await require(uow.transactions.get, query.transaction_id, "transaction")
            known = {c.id for c in await uow.categories.list()}
            outcome = apply_rules(await uow.rules.list(), tx)
            out: list[Suggestion] = []
            rule_category = outcome.transaction.category_id
            if outcome.category_rule is not None and rule_category is not None:
                why = outcome.transaction.categorization
                out.append(Suggestion(rule_category, why.source, why.confidence, why.explanation, why.rule_id))
            learned = await self._ports.categorizer.suggest(tx, uow, limit=query.limit + 1, known=known)
        seen = {s.category_id for s in out}
        out.extend(s for s in learned if s.category_id not in seen)
        return out[: max(1, min(query.limit, 10))]
