"""Queries: the top category suggestions for a transaction, or for many, each with its reason.

:class:`SuggestCategoriesMany` answers a list of transactions (a page of uncategorized rows)
in one unit of work, reading the categorizer's lookups ahead: on a database it costs a few
statements for the whole list, not a unit and half a dozen statements per row."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.errors import NotFound, ValidationError
from valorize_core.model.rules import Rule, apply_rules
from valorize_core.model.transactions import Transaction
from valorize_core.ports.unit_of_work import ReadOnlyUnit
from valorize_core.use_cases.categorization import Suggestion
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require

__all__ = ["MAX_SUGGESTED", "SuggestCategories", "SuggestCategoriesMany", "SuggestionQuery", "SuggestionsQuery"]

MAX_SUGGESTED = 200


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
        async with self._ports.uow.reading(query.tenant_id) as uow:
            tx = await require(uow.transactions.get, query.transaction_id, "transaction")
            known = {c.id for c in await uow.categories.list()}
            return await _suggestions(self._ports, uow, tx, await uow.rules.list(), known, query.limit)


@dataclass(frozen=True, slots=True)
class SuggestionsQuery:
    """Which transactions (at most ``MAX_SUGGESTED``, each once), and how many suggestions each."""

    tenant_id: UUID
    transaction_ids: tuple[UUID, ...]
    limit: int = 3


class SuggestCategoriesMany:
    """:class:`SuggestCategories` for many transactions, in the order given, in one unit."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: SuggestionsQuery) -> list[tuple[Transaction, list[Suggestion]]]:
        """Each transaction with its suggestions; :class:`NotFound` for an unknown one."""
        ids = query.transaction_ids
        if not 1 <= len(ids) <= MAX_SUGGESTED:
            raise ValidationError.for_field("transaction_ids", f"give 1 to {MAX_SUGGESTED} transactions")
        if len(set(ids)) != len(ids):
            raise ValidationError.for_field("transaction_ids", "each transaction at most once")
        async with self._ports.uow.reading(query.tenant_id) as uow:
            found = {tx.id: tx for tx in await uow.transactions.get_many(ids)}
            for tx_id in ids:
                if tx_id not in found:
                    raise NotFound("transaction", tx_id)
            known = {c.id for c in await uow.categories.list()}
            rules = await uow.rules.list()
            await self._ports.categorizer.read_ahead_many(
                uow, ((found[i].description or found[i].payee, found[i].amount) for i in ids)
            )
            return [(found[i], await _suggestions(self._ports, uow, found[i], rules, known, query.limit)) for i in ids]


async def _suggestions(
    ports: Ports, uow: ReadOnlyUnit, tx: Transaction, rules: list[Rule], known: set[UUID], limit: int
) -> list[Suggestion]:
    """The rule's category first (when a rule sets one), then memory and neighbours, one per
    category, at most ``limit`` (1 to 10)."""
    outcome = apply_rules(rules, tx)
    out: list[Suggestion] = []
    rule_category = outcome.transaction.category_id
    if outcome.category_rule is not None and rule_category is not None:
        why = outcome.transaction.categorization
        out.append(Suggestion(rule_category, why.source, why.confidence, why.explanation, why.rule_id))
    learned = await ports.categorizer.suggest(tx, uow, limit=limit + 1, known=known)
    seen = {s.category_id for s in out}
    out.extend(s for s in learned if s.category_id not in seen)
    return out[: max(1, min(limit, 10))]
