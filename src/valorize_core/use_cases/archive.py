"""A tenant as a versioned JSON Lines archive: what ``valorize backup`` writes and ``restore`` reads
(the format and its codec; the use cases are in ``actions/restore_tenant`` and ``queries/backup_tenant``).

One JSON object per line::

    {"format": "valorize-archive", "version": 2, "tenant": {...}, "created_at": "..."}
    {"type": "category", "data": {...}}
    {"type": "account", "data": {...}}
    ...
    {"type": "end", "counts": {"category": 3, "account": 2, ...}}

Records come in an order a restore can insert them in (:data:`RECORD_TYPES`: categories before
the budgets and transactions naming them, imports before their transactions). Each record's
``data`` is the entity's fields as JSON (ids and dates as strings, money as
``{"minor", "currency"}``, rules in their stored form), without the tenant id: an archive
restores into any tenant. The ``end`` line's counts tell a truncated archive from a whole one.

**Versions.** :data:`ARCHIVE_VERSION` is written; every older version is upgraded record by
record (:data:`UPGRADES`) before it is read. Version 1 archives (written before statement
balance checks and webhooks existed) have no ``webhook_endpoint`` records and no
``balance_check`` on imports, and call imports ``import``.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from valorize_core.model.accounts import Account
from valorize_core.model.budgets import Budget
from valorize_core.model.categories import Category
from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.notifications import Notification
from valorize_core.model.payee_memory import PayeeMemoryEntry
from valorize_core.model.rule_suggestions import RuleSuggestion
from valorize_core.model.rules import ConditionGroup, Rule, action_from_data, action_to_data, condition_from_data
from valorize_core.model.rules.codec import condition_to_data
from valorize_core.model.statements.imports import StatementImport
from valorize_core.model.transactions import Transaction
from valorize_core.model.webhooks import WebhookEndpoint
from valorize_core.ports.patterns import PatternEngine

__all__ = [
    "ARCHIVE_FORMAT",
    "ARCHIVE_VERSION",
    "RECORD_TYPES",
    "UPGRADES",
    "decode",
    "encode",
    "header",
    "parse_header",
    "upgrade_record",
]

ARCHIVE_FORMAT = "valorize-archive"
ARCHIVE_VERSION = 2

# In restore order; the name is the record's ``type``.
RECORD_TYPES: dict[str, type[Any]] = {
    "category": Category,
    "account": Account,
    "rule": Rule,
    "budget": Budget,
    "statement_import": StatementImport,
    "transaction": Transaction,
    "payee": PayeeMemoryEntry,
    "rule_suggestion": RuleSuggestion,
    "notification": Notification,
    "webhook_endpoint": WebhookEndpoint,
}


def _upgrade_v1(record: dict[str, Any]) -> dict[str, Any]:
    """Version 1 called imports ``import`` (a balance check is simply absent: its default)."""
    if record.get("type") == "import":
        return {**record, "type": "statement_import"}
    return record


UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _upgrade_v1}


def upgrade_record(record: dict[str, Any], version: int) -> dict[str, Any]:
    """A record of an archive of ``version`` as :data:`ARCHIVE_VERSION` writes it."""
    for step in range(version, ARCHIVE_VERSION):
        record = UPGRADES[step](record)
    return record


def header(tenant_name: str, created_at: datetime) -> dict[str, Any]:
    """The first line."""
    return {"format": ARCHIVE_FORMAT, "version": ARCHIVE_VERSION, "tenant": {"name": tenant_name},
            "created_at": created_at.isoformat()}  # fmt: skip


def parse_header(line: object) -> int:
    """The archive's version, from its first line (refused when it is no archive of ours or from
    a version newer than this one reads)."""
    if not isinstance(line, dict) or line.get("format") != ARCHIVE_FORMAT:
        raise ValidationError.for_field("archive", "not a Valorize archive (its first line names no format)")
    version = line.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= ARCHIVE_VERSION:
        raise ValidationError.for_field(
            "archive", f"archive version {version!r}: this installation reads 1 to {ARCHIVE_VERSION}"
        )
    return version


# -- entities to JSON and back ---------------------------------------------------------------


def _to_json(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, Money):
        return {"minor": value.minor, "currency": value.currency.code}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (tuple, list)):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init}
    raise TypeError(f"cannot archive a {type(value).__name__}")


def encode(entity: Any) -> dict[str, Any]:
    """An entity's archive record (its type from :data:`RECORD_TYPES`), without its tenant id."""
    kind = next(name for name, cls in RECORD_TYPES.items() if isinstance(entity, cls))
    if isinstance(entity, Rule):
        data: dict[str, Any] = {"id": str(entity.id), "name": entity.name, "position": entity.position,
                                "conditions": condition_to_data(entity.conditions),
                                "actions": [action_to_data(a) for a in entity.actions],
                                "created_at": entity.created_at.isoformat(), "stop_processing": entity.stop_processing,
                                "enabled": entity.enabled}  # fmt: skip
    else:
        data = _to_json(entity)
        data.pop("tenant_id", None)
    return {"type": kind, "data": data}


def _from_json(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _from_json(options[0], value, path)
    if hint is Any:
        return value
    if origin is tuple:
        item = typing.get_args(hint)[0]
        if not isinstance(value, list):
            raise ValidationError.for_field(path, "must be a list")
        return tuple(_from_json(item, v, f"{path}.{i}") for i, v in enumerate(value))
    if origin is dict:
        if not isinstance(value, dict):
            raise ValidationError.for_field(path, "must be an object")
        return dict(value)
    try:
        if hint is Money:
            return Money(int(value["minor"]), value["currency"])
        if hint is UUID:
            return UUID(value)
        if hint is datetime:
            return datetime.fromisoformat(value)
        if hint is date:
            return date.fromisoformat(value)
        if hint is Decimal:
            return Decimal(value)
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return hint(value)
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise ValidationError.for_field(path, f"not a valid {getattr(hint, '__name__', hint)}") from None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, value, path)
    if hint in (bool, int, str, float):
        if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
            raise ValidationError.for_field(path, f"must be {hint.__name__}")
        return value
    raise ValidationError.for_field(path, f"cannot read a {hint}")


def _build(cls: type[Any], data: Any, path: str, **given: Any) -> Any:
    if not isinstance(data, dict):
        raise ValidationError.for_field(path, "must be an object")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(data) - known
    if unknown:
        raise ValidationError.for_field(path, f"unknown fields {sorted(unknown)}")
    values = {name: _from_json(hints[name], raw, f"{path}.{name}") for name, raw in data.items()}
    try:
        return cls(**values, **given)
    except TypeError as exc:
        raise ValidationError.for_field(path, f"incomplete: {exc}") from None


def decode(record: Any, tenant_id: UUID, patterns: PatternEngine, line: int) -> Any:
    """The entity of an archive record, in ``tenant_id``.

    Raises:
        ValidationError: an unknown type or a record that is not a valid entity (with its line).
    """
    if not isinstance(record, dict) or record.get("type") not in RECORD_TYPES:
        raise ValidationError.for_field(f"line {line}", f"not an archive record: {str(record)[:80]}")
    kind, data = record["type"], record.get("data")
    cls = RECORD_TYPES[kind]
    path = f"line {line}: {kind}"
    if cls is Rule:
        if not isinstance(data, dict):
            raise ValidationError.for_field(path, "must be an object")
        conditions = condition_from_data(data.get("conditions"), patterns=patterns)
        if not isinstance(conditions, ConditionGroup):
            conditions = ConditionGroup("all", (conditions,))  # type: ignore[arg-type]
        try:
            return Rule(
                id=UUID(data["id"]), tenant_id=tenant_id, name=data["name"], position=data["position"],
                conditions=conditions, actions=tuple(action_from_data(a) for a in data["actions"]),
                created_at=datetime.fromisoformat(data["created_at"]), stop_processing=data["stop_processing"],
                enabled=data["enabled"],
            )  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError.for_field(path, f"not a valid rule: {exc}") from None
    if "tenant_id" in {f.name for f in dataclasses.fields(cls)}:
        return _build(cls, data, path, tenant_id=tenant_id)
    return _build(cls, data, path)


def dumps(record: Mapping[str, Any]) -> str:
    """One archive line (compact JSON, keys sorted, newline-terminated)."""
    return json.dumps(record, separators=(",", ":"), sort_keys=True, ensure_ascii=False) + "\n"
