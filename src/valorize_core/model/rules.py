"""Categorization rules: ordered, nested conditions, actions, explanations.

A rule matches when its condition group does. Groups combine conditions (or other groups) with
``all`` (AND) or ``any`` (OR), to any depth up to ``MAX_DEPTH``, and every condition or group
can be negated, so ``(description contains "uber" OR payee equals "99") AND NOT amount > 100``
is one rule. Rules run in ``position`` order; each matching rule's actions apply in turn (a
later ``set_category`` wins), and a rule with ``stop_processing`` ends the run. Every outcome
says which rules fired and why.

``regex`` conditions run on a :class:`~valorize_core.ports.patterns.PatternEngine` passed as
``patterns`` (RE2 in the adapters): linear in the text, so no pattern can stall a caller.
Without an engine they are refused (:mod:`valorize_core.model.patterns`).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import InitVar, dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.patterns import NO_PATTERN_ENGINE, RefusedPattern
from valorize_core.model.text import clean_name, clean_tag, clean_text, parse_choice
from valorize_core.model.transactions import Categorization, CategorizationSource, Split, Transaction

if TYPE_CHECKING:  # the pattern-engine port types the model; nothing of ports runs here
    from valorize_core.ports.patterns import CompiledPattern, PatternEngine

__all__ = [
    "MAX_DEPTH",
    "MAX_TENANT_PATTERNS",
    "Action",
    "AddTag",
    "Condition",
    "ConditionGroup",
    "Field",
    "Match",
    "Operator",
    "RenamePayee",
    "Rule",
    "RuleMatch",
    "RuleOutcome",
    "SetCategory",
    "SplitBy",
    "SplitPart",
    "action_from_data",
    "action_to_data",
    "apply_rules",
    "condition_from_data",
    "condition_to_data",
]

MAX_DEPTH = 5
MAX_CONDITIONS = 50
MAX_ONE_OF = 100
MAX_PATTERN = 200
# Every write runs every rule of its tenant on the event loop: the regular expressions of all a
# tenant's rules together are bounded (each costs up to about a millisecond per description).
MAX_TENANT_PATTERNS = 100


class Field(enum.StrEnum):
    """What a condition looks at."""

    DESCRIPTION = "description"
    PAYEE = "payee"
    AMOUNT = "amount"
    ACCOUNT = "account"
    DATE = "date"


class Operator(enum.StrEnum):
    """How a condition compares."""

    CONTAINS = "contains"
    EQUALS = "equals"
    STARTS_WITH = "starts_with"
    ENDS_WITH = "ends_with"
    REGEX = "regex"
    ONE_OF = "one_of"
    GREATER = "greater"
    LESS = "less"
    BETWEEN = "between"


class Match(enum.StrEnum):
    """How a group combines its members."""

    ALL = "all"
    ANY = "any"


_TEXT_OPS = {Operator.CONTAINS, Operator.EQUALS, Operator.STARTS_WITH, Operator.ENDS_WITH,
             Operator.REGEX, Operator.ONE_OF}  # fmt: skip
_ORDER_OPS = {Operator.EQUALS, Operator.GREATER, Operator.LESS, Operator.BETWEEN, Operator.ONE_OF}
ALLOWED_OPERATORS: dict[Field, frozenset[Operator]] = {
    Field.DESCRIPTION: frozenset(_TEXT_OPS),
    Field.PAYEE: frozenset(_TEXT_OPS),
    Field.AMOUNT: frozenset(_ORDER_OPS),
    Field.ACCOUNT: frozenset({Operator.EQUALS, Operator.ONE_OF}),
    Field.DATE: frozenset(_ORDER_OPS - {Operator.ONE_OF}),
}


def fold(text: str) -> str:
    """Case- and accent-insensitive form used by every text comparison."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


ScalarValue: TypeAlias = str | Money | UUID | date


def _check_scalar(field: Field, value: object, name: str) -> ScalarValue:
    if field in (Field.DESCRIPTION, Field.PAYEE):
        text = clean_text(value, name, 500)
        if not text:
            raise ValidationError.for_field(name, "must not be empty")
        return text
    if field is Field.AMOUNT:
        if not isinstance(value, Money):
            raise ValidationError.for_field(name, "must be money")
        return value
    if field is Field.ACCOUNT:
        if not isinstance(value, UUID):
            raise ValidationError.for_field(name, "must be an account id")
        return value
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError.for_field(name, "must be a date")
    return value


@dataclass(frozen=True, slots=True)
class Condition:
    """``field operator value``, optionally negated.

    Values: text for description/payee (``one_of``: a tuple of texts; ``regex``: a pattern,
    compiled case-insensitively by ``patterns``, kept in :attr:`compiled`); :class:`Money` for
    amount, compared on the signed amount (outflows are negative); an account id for account;
    a :class:`date` for date. ``between`` takes an inclusive ``(low, high)`` pair.
    """

    field: Field
    operator: Operator
    value: Any
    negate: bool = False
    patterns: InitVar[PatternEngine | None] = None
    compiled: CompiledPattern | None = dataclass_field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self, patterns: PatternEngine | None) -> None:
        field = parse_choice(Field, self.field, "field")
        op = parse_choice(Operator, self.operator, "operator")
        object.__setattr__(self, "field", field)
        object.__setattr__(self, "operator", op)
        if op not in ALLOWED_OPERATORS[field]:
            allowed = ", ".join(sorted(ALLOWED_OPERATORS[field]))
            raise ValidationError.for_field("operator", f"{field} supports {allowed}")
        if not isinstance(self.negate, bool):
            raise ValidationError.for_field("negate", "must be true or false")
        value = self.value
        if op is Operator.ONE_OF:
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence | frozenset | set):
                raise ValidationError.for_field("value", "one_of takes a list")
            items = tuple(_check_scalar(field, v, "value") for v in value)
            if not items or len(items) > MAX_ONE_OF:
                raise ValidationError.for_field("value", f"one_of takes 1 to {MAX_ONE_OF} values")
            value = items
        elif op is Operator.BETWEEN:
            if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                raise ValidationError.for_field("value", "between takes [low, high]")
            low, high = (_check_scalar(field, v, "value") for v in value)
            if _compare_key(low) > _compare_key(high):
                raise ValidationError.for_field("value", "between needs low <= high")
            value = (low, high)
        else:
            value = _check_scalar(field, value, "value")
            if op is Operator.REGEX:
                value = str(value)
                if len(value) > MAX_PATTERN:
                    raise ValidationError.for_field("value", f"patterns are at most {MAX_PATTERN} characters")
                try:
                    compiled = (patterns or NO_PATTERN_ENGINE).compile(value, ignore_case=True)
                except ValidationError as exc:
                    raise ValidationError.for_field("value", exc.message) from None
                object.__setattr__(self, "compiled", compiled)
        if field is Field.AMOUNT:
            currencies = {v.currency for v in (value if isinstance(value, tuple) else (value,))}
            if len(currencies) != 1:
                raise ValidationError.for_field("value", "amounts in one condition share a currency")
        object.__setattr__(self, "value", value)

    @property
    def runnable(self) -> bool:
        """False for a stored pattern the engine refuses (see :class:`RefusedPattern`)."""
        return not isinstance(self.compiled, RefusedPattern)

    def evaluate(self, tx: Transaction) -> bool:
        """Whether ``tx`` satisfies the condition (negation applied)."""
        return self._raw(tx) != self.negate

    def _raw(self, tx: Transaction) -> bool:
        op, value = self.operator, self.value
        if self.field in (Field.DESCRIPTION, Field.PAYEE):
            raw = tx.description if self.field is Field.DESCRIPTION else tx.payee
            if op is Operator.REGEX:  # on the raw text: folding could change what a pattern means
                assert self.compiled is not None
                return self.compiled.search(raw)
            subject = fold(raw)
            if op is Operator.ONE_OF:
                return subject in {fold(v) for v in value}
            needle = fold(value)
            if op is Operator.CONTAINS:
                return needle in subject
            if op is Operator.EQUALS:
                return subject == needle
            if op is Operator.STARTS_WITH:
                return subject.startswith(needle)
            return subject.endswith(needle)
        if self.field is Field.ACCOUNT:
            return tx.account_id in value if op is Operator.ONE_OF else tx.account_id == value
        subject_value: Money | date = tx.amount if self.field is Field.AMOUNT else tx.booked_on
        if self.field is Field.AMOUNT:
            sample = value[0] if isinstance(value, tuple) else value
            if sample.currency != tx.amount.currency:
                return False
        key = _compare_key(subject_value)
        if op is Operator.ONE_OF:
            return any(key == _compare_key(v) for v in value)
        if op is Operator.BETWEEN:
            return bool(_compare_key(value[0]) <= key <= _compare_key(value[1]))
        other = _compare_key(value)
        if op is Operator.EQUALS:
            return bool(key == other)
        if op is Operator.GREATER:
            return bool(key > other)
        return bool(key < other)

    def describe(self) -> str:
        """Human wording, e.g. ``description contains 'uber'``."""
        shown = _show(self.value)
        words = self.operator.value.replace("_", " ")
        refused = f" (not run: {self.compiled.reason})" if isinstance(self.compiled, RefusedPattern) else ""
        return f"{'not ' if self.negate else ''}{self.field.value} {words} {shown}{refused}"


def _compare_key(value: object) -> Any:
    if isinstance(value, Money):
        return value.minor
    return value


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, Money):
        return str(value)
    if isinstance(value, str):
        return repr(value)
    return str(value)


Node: TypeAlias = "Condition | ConditionGroup"


@dataclass(frozen=True, slots=True)
class ConditionGroup:
    """Conditions or nested groups combined with ``all`` or ``any``; optionally negated."""

    match: Match
    members: tuple[Condition | ConditionGroup, ...]
    negate: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "match", parse_choice(Match, self.match, "match"))
        members = tuple(self.members)
        if not members:
            raise ValidationError.for_field("members", "a group needs at least one condition")
        for i, m in enumerate(members):
            if not isinstance(m, (Condition, ConditionGroup)):
                raise ValidationError.for_field(f"members.{i}", "must be a condition or a group")
        object.__setattr__(self, "members", members)
        if self.depth() > MAX_DEPTH:
            raise ValidationError.for_field("members", f"groups nest at most {MAX_DEPTH} deep")
        if self.size() > MAX_CONDITIONS:
            raise ValidationError.for_field("members", f"at most {MAX_CONDITIONS} conditions per rule")

    def depth(self) -> int:
        """Levels of grouping (a group of plain conditions is 1)."""
        return 1 + max((m.depth() for m in self.members if isinstance(m, ConditionGroup)), default=0)

    def size(self) -> int:
        """Number of conditions in the whole tree."""
        return sum(m.size() if isinstance(m, ConditionGroup) else 1 for m in self.members)

    def conditions(self) -> Iterator[Condition]:
        """Every condition of the tree, depth first."""
        for m in self.members:
            if isinstance(m, ConditionGroup):
                yield from m.conditions()
            else:
                yield m

    def explain(self, tx: Transaction) -> tuple[bool, list[str]]:
        """Whether ``tx`` matches, and the conditions that made it so."""
        results = [
            m.explain(tx) if isinstance(m, ConditionGroup) else (m.evaluate(tx), [m.describe()]) for m in self.members
        ]
        if self.match is Match.ALL:
            matched = all(ok for ok, _ in results)
            reasons = [r for ok, rs in results if ok for r in rs]
        else:
            matched = any(ok for ok, _ in results)
            reasons = next((rs for ok, rs in results if ok), [])
        if self.negate:
            return (not matched, [f"not ({self.describe()})"] if not matched else [])
        return matched, reasons if matched else []

    def describe(self) -> str:
        """Human wording of the whole group."""
        joiner = " and " if self.match is Match.ALL else " or "
        inner = joiner.join(
            f"({m.describe()})" if isinstance(m, ConditionGroup) else m.describe() for m in self.members
        )
        return f"not ({inner})" if self.negate else inner


# -- actions ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SetCategory:
    """Put the whole amount in one category."""

    category_id: UUID

    def __post_init__(self) -> None:
        if not isinstance(self.category_id, UUID):
            raise ValidationError.for_field("category_id", "must be a category id")

    def describe(self) -> str:
        """Human wording."""
        return f"set category {self.category_id}"


@dataclass(frozen=True, slots=True)
class RenamePayee:
    """Replace the payee with a clean name."""

    payee: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "payee", clean_name(self.payee, "payee"))

    def describe(self) -> str:
        """Human wording."""
        return f"rename payee to {self.payee!r}"


@dataclass(frozen=True, slots=True)
class AddTag:
    """Add a tag."""

    tag: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "tag", clean_tag(self.tag, "tag"))

    def describe(self) -> str:
        """Human wording."""
        return f"add tag {self.tag!r}"


@dataclass(frozen=True, slots=True)
class SplitPart:
    """One part of a split: a percentage of the amount or a fixed amount (its magnitude)."""

    category_id: UUID | None
    percent: Decimal | None = None
    fixed: Money | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        if (self.percent is None) == (self.fixed is None):
            raise ValidationError.for_field("percent", "give either percent or fixed")
        if self.percent is not None:
            p = self.percent
            if not isinstance(p, Decimal) or not p.is_finite() or not 0 < p <= 100:
                raise ValidationError.for_field("percent", "must be a decimal in (0, 100]")
            if p.as_tuple().exponent < -2:  # type: ignore[operator]
                raise ValidationError.for_field("percent", "at most two decimal places")
        if self.fixed is not None and (not isinstance(self.fixed, Money) or self.fixed.minor <= 0):
            raise ValidationError.for_field("fixed", "must be a positive amount")
        object.__setattr__(self, "memo", clean_text(self.memo, "memo", 500))

    @property
    def basis_points(self) -> int:
        """The percentage in hundredths of a percent."""
        return int((self.percent or Decimal(0)) * 100)


@dataclass(frozen=True, slots=True)
class SplitBy:
    """Split the amount: percentages of it and fixed amounts, the rest to ``remainder_category_id``."""

    parts: tuple[SplitPart, ...]
    remainder_category_id: UUID | None = None

    def __post_init__(self) -> None:
        parts = tuple(self.parts)
        if not parts or len(parts) > 50:
            raise ValidationError.for_field("parts", "a split needs 1 to 50 parts")
        if sum(p.basis_points for p in parts) > 10_000:
            raise ValidationError.for_field("parts", "percentages add up to more than 100")
        object.__setattr__(self, "parts", parts)

    def splits_for(self, amount: Money) -> tuple[Split, ...] | None:
        """The splits for ``amount``, or ``None`` when the fixed parts do not fit in it."""
        sign = -1 if amount.minor < 0 else 1
        percent_parts = [p for p in self.parts if p.percent is not None]
        weights = [p.basis_points for p in percent_parts]
        shares = amount.allocate([*weights, 10_000 - sum(weights)]) if weights else [amount]
        out: list[Split] = [Split(p.category_id, s, p.memo) for p, s in zip(percent_parts, shares, strict=False)]
        remainder = shares[-1]
        for part in self.parts:
            if part.fixed is None:
                continue
            if part.fixed.currency != amount.currency:
                return None
            piece = Money(sign * part.fixed.minor, amount.currency)
            remainder = remainder - piece
            out.append(Split(part.category_id, piece, part.memo))
        if remainder.minor * sign < 0:
            return None
        if remainder.minor:
            out.append(Split(self.remainder_category_id, remainder, ""))
        return tuple(out)

    def describe(self) -> str:
        """Human wording."""
        shown = [f"{p.percent}%" if p.percent is not None else str(p.fixed) for p in self.parts]
        return "split " + " / ".join(shown) + " + remainder"


Action: TypeAlias = SetCategory | RenamePayee | AddTag | SplitBy
_ACTION_TYPES = (SetCategory, RenamePayee, AddTag, SplitBy)


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


def _value_to_data(value: object) -> Any:
    if isinstance(value, tuple):
        return [_value_to_data(v) for v in value]
    if isinstance(value, Money):
        return {"amount": value.to_decimal_string(), "currency": value.currency.code}
    if isinstance(value, (UUID, date)):
        return str(value) if isinstance(value, UUID) else value.isoformat()
    return value


def _value_from_data(field: Field, data: Any, name: str) -> Any:
    if field is Field.AMOUNT:
        if not isinstance(data, Mapping):
            raise ValidationError.for_field(name, "amounts are {amount, currency}")
        return Money.parse(data.get("amount"), data.get("currency", ""))
    if field is Field.ACCOUNT:
        from valorize_core.model.ids import parse_id

        return parse_id(data, name)
    if field is Field.DATE:
        try:
            return date.fromisoformat(data)
        except (TypeError, ValueError):
            raise ValidationError.for_field(name, "dates are YYYY-MM-DD") from None
    return data


def condition_to_data(node: Condition | ConditionGroup) -> dict[str, Any]:
    """A condition tree as plain JSON-safe data."""
    if isinstance(node, ConditionGroup):
        return {
            "match": node.match.value,
            "negate": node.negate,
            "conditions": [condition_to_data(m) for m in node.members],
        }
    return {
        "field": node.field.value,
        "operator": node.operator.value,
        "value": _value_to_data(node.value),
        "negate": node.negate,
    }


def condition_from_data(
    data: Any, path: str = "conditions", depth: int = 1, *, patterns: PatternEngine | None = None
) -> Condition | ConditionGroup:
    """Rebuild a condition tree from :func:`condition_to_data` output, validating it.

    ``regex`` values are compiled by ``patterns`` (refused without one); storage adapters pass
    :class:`~valorize_core.model.patterns.StoredPatterns` so a stored pattern the engine refuses still
    loads (its rule does not run).
    """
    if not isinstance(data, Mapping):
        raise ValidationError.for_field(path, "must be an object")
    if depth > MAX_DEPTH + 1:
        raise ValidationError.for_field(path, f"groups nest at most {MAX_DEPTH} deep")
    try:
        if "match" in data or "conditions" in data:
            members = data.get("conditions")
            if not isinstance(members, list):
                raise ValidationError.for_field("conditions", "must be a list")
            if len(members) > MAX_CONDITIONS:
                raise ValidationError.for_field("conditions", f"at most {MAX_CONDITIONS} conditions")
            return ConditionGroup(
                data.get("match", "all"),
                tuple(
                    condition_from_data(m, f"{path}.conditions.{i}", depth + 1, patterns=patterns)
                    for i, m in enumerate(members)
                ),
                data.get("negate", False),
            )
        field = parse_choice(Field, data.get("field"), "field")
        op = parse_choice(Operator, data.get("operator"), "operator")
        raw = data.get("value")
        if op in (Operator.ONE_OF, Operator.BETWEEN):
            if not isinstance(raw, list):
                raise ValidationError.for_field("value", f"{op} takes a list")
            value: Any = tuple(_value_from_data(field, v, "value") for v in raw[: MAX_ONE_OF + 1])
        else:
            value = _value_from_data(field, raw, "value")
        return Condition(field, op, value, data.get("negate", False), patterns)
    except ValidationError as exc:
        if exc.errors and exc.errors[0].field.startswith(path):
            raise
        raise exc.prefixed(path) from None


def action_to_data(action: Action) -> dict[str, Any]:
    """An action as plain JSON-safe data."""
    if isinstance(action, SetCategory):
        return {"type": "set_category", "category_id": str(action.category_id)}
    if isinstance(action, RenamePayee):
        return {"type": "rename_payee", "payee": action.payee}
    if isinstance(action, AddTag):
        return {"type": "add_tag", "tag": action.tag}
    return {
        "type": "split",
        "remainder_category_id": _opt_str(action.remainder_category_id),
        "parts": [
            {
                "category_id": _opt_str(p.category_id),
                "percent": None if p.percent is None else str(p.percent),
                "fixed": None if p.fixed is None else _value_to_data(p.fixed),
                "memo": p.memo,
            }
            for p in action.parts
        ],
    }


def _opt_str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


def _opt_id(value: Any, name: str) -> UUID | None:
    from valorize_core.model.ids import parse_id

    return None if value is None else parse_id(value, name)


def action_from_data(data: Any, path: str = "action") -> Action:
    """Rebuild an action from :func:`action_to_data` output, validating it."""
    from valorize_core.model.ids import parse_id

    try:
        if not isinstance(data, Mapping):
            raise ValidationError.for_field("type", "an action must be an object")
        kind = data.get("type")
        if kind == "set_category":
            return SetCategory(parse_id(data.get("category_id"), "category_id"))
        if kind == "rename_payee":
            return RenamePayee(data.get("payee"))  # type: ignore[arg-type]
        if kind == "add_tag":
            return AddTag(data.get("tag"))  # type: ignore[arg-type]
        if kind == "split":
            raw_parts = data.get("parts")
            if not isinstance(raw_parts, list):
                raise ValidationError.for_field("parts", "must be a list")
            parts = []
            for i, p in enumerate(raw_parts[:51]):
                if not isinstance(p, Mapping):
                    raise ValidationError.for_field(f"parts.{i}", "must be an object")
                percent = p.get("percent")
                try:
                    pct = (
                        None
                        if percent is None
                        else Decimal(str(percent))
                        if isinstance(percent, (str, int)) and not isinstance(percent, bool)
                        else None
                    )
                except InvalidOperation:
                    pct = None
                if percent is not None and pct is None:
                    raise ValidationError.for_field(f"parts.{i}.percent", "must be a decimal string")
                fixed = p.get("fixed")
                parts.append(
                    SplitPart(
                        _opt_id(p.get("category_id"), f"parts.{i}.category_id"),
                        pct,
                        None if fixed is None else _value_from_data(Field.AMOUNT, fixed, f"parts.{i}.fixed"),
                        p.get("memo", ""),
                    )
                )
            return SplitBy(tuple(parts), _opt_id(data.get("remainder_category_id"), "remainder_category_id"))
        raise ValidationError.for_field("type", "must be set_category, rename_payee, add_tag or split")
    except ValidationError as exc:
        raise exc.prefixed(path) from None
