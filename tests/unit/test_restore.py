"""restore(): rebuilding stored entities without re-validation gives equal entities."""

from __future__ import annotations

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
