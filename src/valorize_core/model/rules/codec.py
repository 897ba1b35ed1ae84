"""Conditions and actions to and from plain data (JSON bodies, stored rules), validated on the way in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.rules.actions import Action, AddTag, RenamePayee, SetCategory, SplitBy, SplitPart
from valorize_core.model.rules.conditions import (
    MAX_CONDITIONS,
    MAX_DEPTH,
    MAX_ONE_OF,
    Condition,
    ConditionGroup,
    Field,
    Operator,
)
from valorize_core.model.text import parse_choice

if TYPE_CHECKING:  # the pattern-engine port types the model; nothing of ports runs here
    from valorize_core.ports.patterns import PatternEngine


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
