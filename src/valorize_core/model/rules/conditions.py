"""Rule conditions: fields, operators, conditions and the groups that nest them.

A group combines conditions (or other groups) with ``all`` (AND) or ``any`` (OR), to any depth up
to ``MAX_DEPTH``; every condition or group can be negated. ``regex`` conditions are compiled by a
:class:`~valorize_core.ports.patterns.PatternEngine` (refused without one).
"""

from __future__ import annotations

import enum
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import InitVar, dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeAlias
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.patterns import NO_PATTERN_ENGINE, RefusedPattern
from valorize_core.model.text import clean_text, parse_choice
from valorize_core.model.transactions import Transaction

if TYPE_CHECKING:  # the pattern-engine port types the model; nothing of ports runs here
    from valorize_core.ports.patterns import CompiledPattern, PatternEngine


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
