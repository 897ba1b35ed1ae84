"""restore(): rebuilding stored entities without re-validation gives equal entities."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest

from valorize_adapters.postgres.restore import restore, restorer
from valorize_core.model.money import Money
from valorize_core.model.transactions import Categorization, Split, Transaction, TransactionStatus


def test_restore_equals_validated_construction_and_fills_defaults() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    amount = Money.parse("-12.50", "BRL")
    fields = {"id": uuid.uuid4(), "tenant_id": uuid.uuid4(), "account_id": uuid.uuid4(),
              "booked_on": date(2026, 11, 3), "description": "PADARIA REAL", "payee": "Padaria Real",
              "amount": amount, "splits": (Split(None, amount),), "created_at": now, "updated_at": now}  # fmt: skip
    made = Transaction(**fields)  # type: ignore[arg-type]
    restored = restore(Transaction, **fields)
    assert restored == made
    assert restored.status is TransactionStatus.POSTED
    assert restored.categorization == Categorization.none()
    with pytest.raises(TypeError, match="needs amount"):
        restore(Split, category_id=None)


@dataclasses.dataclass(frozen=True, slots=True)
class _Box:
    a: int
    items: list[int] = dataclasses.field(default_factory=list)
    label: str = "box"


def test_defaults_and_factories_are_applied_like_the_constructor() -> None:
    first, second = restore(_Box, a=1), restore(_Box, a=1)
    assert first == _Box(1) == second
    assert first.items is not second.items  # a fresh value from the factory each time
    assert restore(_Box, a=2, items=[3], label="x") == _Box(2, [3], "x")


def test_a_restorer_takes_every_field_in_declaration_order() -> None:
    now = datetime(2026, 11, 22, tzinfo=UTC)
    amount = Money.parse("-12.50", "BRL")
    made = Transaction(
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), date(2026, 11, 3), "PADARIA REAL", "Padaria Real", amount,
        (Split(uuid.uuid4(), amount, "bread"),), now, now, tags=("food",), external_id="X1",
        categorization=Categorization.none(), import_id=uuid.uuid4(),
    )  # fmt: skip
    for entity in (made, made.splits[0], made.categorization, made.amount):
        values = [getattr(entity, f.name) for f in dataclasses.fields(entity)]
        rebuilt = restorer(type(entity))(*values)
        assert rebuilt == entity
        assert type(rebuilt) is type(entity)
    with pytest.raises(TypeError):
        restorer(Split)(None)  # every field is required, defaults too: no silent shift


@dataclasses.dataclass(frozen=True)
class _Private:
    _hidden: int


def test_a_restorer_refuses_fields_it_cannot_name() -> None:
    with pytest.raises(TypeError, match="cannot name"):
        restorer(_Private)
