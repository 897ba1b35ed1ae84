"""restore(): rebuilding stored entities without re-validation gives equal entities."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime

import pytest

from valorize_core.money import Money
from valorize_core.restore import restore
from valorize_core.transactions import Categorization, Split, Transaction, TransactionStatus


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
