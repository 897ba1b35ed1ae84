"""Query: what a rule would do to existing transactions (dry run, nothing is written)."""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.listing import TransactionFilter
from valorize_core.model.rules import Rule, RuleMatch, apply_rules
from valorize_core.model.transactions import Transaction
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.cooperative import cooperatively
from valorize_core.use_cases.lookups import require_rule_references

__all__ = ["PreviewRule", "RulePreview", "RulePreviewQuery"]


@dataclass(frozen=True, slots=True)
class RulePreviewQuery:
    """A rule (saved or not) tried over the tenant's transactions."""

    tenant_id: UUID
    rule: Rule
    filter: TransactionFilter = field(default_factory=TransactionFilter)
    limit: int = 100


@dataclass(frozen=True, slots=True)
class RulePreview:
    """One transaction the rule matches: before, after, and why."""

    before: Transaction
    after: Transaction
    match: RuleMatch


class PreviewRule:
    """Dry run of one rule, whose categories and accounts must be the tenant's (as on create)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: RulePreviewQuery) -> tuple[list[RulePreview], int]:
        """Up to ``limit`` previews (newest first) and the total number of matches."""
        if not 1 <= query.limit <= 1000:
            raise ValidationError.for_field("limit", "must be between 1 and 1000")
        if query.rule.tenant_id != query.tenant_id:
            raise ValidationError.for_field("rule", "belongs to another tenant")
        async with self._ports.uow.reading(query.tenant_id) as uow:
            await require_rule_references(uow, query.rule)
            txs = await uow.transactions.all(query.filter)
        previews: list[RulePreview] = []
        total = 0
        rule = Rule(**{**{f: getattr(query.rule, f) for f in Rule.__dataclass_fields__}, "enabled": True})
        async for tx in cooperatively(sorted(txs, key=lambda t: (t.booked_on, t.id), reverse=True)):
            if tx.is_transfer:
                continue
            outcome = apply_rules([rule], tx)
            if not outcome.matches:
                continue
            total += 1
            if len(previews) < query.limit:
                previews.append(RulePreview(tx, outcome.transaction, outcome.matches[0]))
        return previews, total
