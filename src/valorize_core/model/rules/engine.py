"""Rules and how they run: in ``position`` order, each matching rule's actions in turn (a later
``set_category`` wins), until a rule with ``stop_processing``; every outcome says which rules
fired and why."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.rules.actions import _ACTION_TYPES, Action, AddTag, RenamePayee, SetCategory, SplitBy
from valorize_core.model.rules.conditions import ConditionGroup, Field, Operator
from valorize_core.model.text import clean_name
from valorize_core.model.transactions import Categorization, CategorizationSource, Split, Transaction


@dataclass(frozen=True, slots=True)
class Rule:
    """An ordered, per-tenant categorization rule."""

    id: UUID
    tenant_id: UUID
    name: str
    position: int
    conditions: ConditionGroup
    actions: tuple[Action, ...]
    created_at: datetime
    stop_processing: bool = False
    enabled: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", clean_name(self.name, "name"))
        if isinstance(self.position, bool) or not isinstance(self.position, int) or self.position < 0:
            raise ValidationError.for_field("position", "must be a non-negative integer")
        if not isinstance(self.conditions, ConditionGroup):
            raise ValidationError.for_field("conditions", "must be a condition group")
        actions = tuple(self.actions)
        if not actions or len(actions) > 20:
            raise ValidationError.for_field("actions", "a rule needs 1 to 20 actions")
        for i, a in enumerate(actions):
            if not isinstance(a, _ACTION_TYPES):
                raise ValidationError.for_field(f"actions.{i}", "unknown action")
        object.__setattr__(self, "actions", actions)
        for name in ("stop_processing", "enabled"):
            if not isinstance(getattr(self, name), bool):
                raise ValidationError.for_field(name, "must be true or false")

    def pattern_count(self) -> int:
        """How many regular expressions its conditions run."""
        return sum(1 for c in self.conditions.conditions() if c.operator is Operator.REGEX)

    def category_ids(self) -> set[UUID]:
        """Every category this rule can assign."""
        out: set[UUID] = set()
        for action in self.actions:
            if isinstance(action, SetCategory):
                out.add(action.category_id)
            elif isinstance(action, SplitBy):
                out.update(p.category_id for p in action.parts if p.category_id is not None)
                if action.remainder_category_id is not None:
                    out.add(action.remainder_category_id)
        return out

    def account_ids(self) -> set[UUID]:
        """Every account this rule's conditions name."""
        out: set[UUID] = set()
        for condition in self.conditions.conditions():
            if condition.field is Field.ACCOUNT:
                out.update(condition.value if isinstance(condition.value, tuple) else (condition.value,))
        return out

    def runnable(self) -> bool:
        """False when a pattern of the rule cannot run (a stored one the engine refuses): such a
        rule never fires until its pattern is changed."""
        return all(c.runnable for c in self.conditions.conditions())


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One rule that fired: why, and what it did (or why an action was skipped)."""

    rule_id: UUID
    rule_name: str
    reasons: tuple[str, ...]
    applied: tuple[str, ...]
    skipped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """The transaction after the rules, and the rules that fired in order."""

    transaction: Transaction
    matches: tuple[RuleMatch, ...]
    category_rule: RuleMatch | None

    @property
    def changed(self) -> bool:
        """True when at least one action applied."""
        return any(m.applied for m in self.matches)


def apply_rules(rules: Iterable[Rule], tx: Transaction) -> RuleOutcome:
    """Run the enabled rules in position order over ``tx`` and return the outcome (a rule
    whose pattern cannot run is skipped, see :meth:`Rule.runnable`)."""
    matches: list[RuleMatch] = []
    category_rule: RuleMatch | None = None
    current = tx
    for rule in sorted((r for r in rules if r.enabled and r.runnable()), key=lambda r: (r.position, r.id)):
        matched, reasons = rule.conditions.explain(current)
        if not matched:
            continue
        applied: list[str] = []
        skipped: list[str] = []
        categorized = False
        for action in rule.actions:
            current, ok = _apply(action, current)
            (applied if ok else skipped).append(action.describe())
            categorized = categorized or (ok and isinstance(action, (SetCategory, SplitBy)))
        match = RuleMatch(rule.id, rule.name, tuple(reasons), tuple(applied), tuple(skipped))
        matches.append(match)
        if categorized:
            category_rule = match
        if rule.stop_processing:
            break
    if category_rule is not None:
        explanation = f"rule {category_rule.rule_name!r}: " + "; ".join(category_rule.reasons)
        current = replace(
            current,
            categorization=Categorization(
                CategorizationSource.RULE, Decimal(1), explanation[:1000], category_rule.rule_id
            ),
        )
    return RuleOutcome(current, tuple(matches), category_rule)


def _apply(action: Action, tx: Transaction) -> tuple[Transaction, bool]:
    if isinstance(action, SetCategory):
        return replace(tx, splits=(Split(action.category_id, tx.amount),)), True
    if isinstance(action, RenamePayee):
        return replace(tx, payee=action.payee), True
    if isinstance(action, AddTag):
        return replace(tx, tags=(*tx.tags, action.tag)), True
    splits = action.splits_for(tx.amount)
    if splits is None:
        return tx, False
    return replace(tx, splits=splits), True


# -- plain data (JSON) form ------------------------------------------------------------------
