"""The transaction's response is built positionally (api/schemas/transactions.py): each field of
``TransactionOut`` must get its own value, whatever order the struct declares them in."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import msgspec
import pytest

from valorize_core.model.money import Money
from valorize_core.model.transaction_view import transaction_view
from valorize_core.model.transactions import (
    Categorization,
    CategorizationSource,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)
from valorize_entrypoints.api.schemas.transactions import transaction, transaction_shown


def test_transaction_out_fields() -> None:
    ids = [uuid.uuid4() for _ in range(7)]
    created, updated = datetime(2026, 3, 1, 9, tzinfo=UTC), datetime(2026, 3, 2, 10, tzinfo=UTC)
    tx = Transaction(
        id=ids[0], tenant_id=ids[1], account_id=ids[2], booked_on=date(2026, 2, 28), description="PADARIA REAL",
        payee="Padaria", amount=Money.parse("-12.50", "BRL"),
        splits=(Split(ids[3], Money.parse("-10.00", "BRL"), "pão"), Split(None, Money.parse("-2.50", "BRL"))),
        created_at=created, updated_at=updated, status=TransactionStatus.PENDING, source=TransactionSource.IMPORT,
        tags=("casa", "mercado"), external_id="ext-1", fingerprint="fp",
        categorization=Categorization(CategorizationSource.RULE, Decimal("0.75"), "rule R", ids[4]),
        transfer_id=ids[5], import_id=ids[6],
    )  # fmt: skip
    assert msgspec.to_builtins(transaction(tx)) == {
        "id": str(ids[0]), "account_id": str(ids[2]), "booked_on": "2026-02-28", "description": "PADARIA REAL",
        "payee": "Padaria", "amount": {"amount": "-12.50", "currency": "BRL"},
        "splits": [{"category_id": str(ids[3]), "amount": {"amount": "-10.00", "currency": "BRL"}, "memo": "pão"},
                   {"category_id": None, "amount": {"amount": "-2.50", "currency": "BRL"}, "memo": ""}],
        "tags": ["casa", "mercado"], "status": "pending", "source": "import", "external_id": "ext-1",
        "categorization": {"source": "rule", "confidence": "0.750", "explanation": "rule R", "rule_id": str(ids[4])},
        "transfer_id": str(ids[5]), "import_id": str(ids[6]),
        "created_at": "2026-03-01T09:00:00Z", "updated_at": "2026-03-02T10:00:00Z",
    }  # fmt: skip


@pytest.mark.parametrize("code", ["BRL", "JPY", "KWD", "CLF"])
@pytest.mark.parametrize("minor", [0, 5, -5, -1250, 123456789])
def test_transaction_views(code: str, minor: int) -> None:
    """A list page's rows (views, ``transaction_shown``) answer exactly what the transaction itself
    does (``transaction``): every field, every amount's spelling in currencies of 0-4 decimals."""
    ids = [uuid.uuid4() for _ in range(7)]
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=UTC)
    for splits, categorization, tags in [
        ((Split(None, Money(minor, code)),), Categorization(CategorizationSource.NONE, Decimal(0), ""), ()),
        (
            (Split(ids[3], Money(minor - 7, code), "pão"), Split(None, Money(7, code), "")),
            Categorization(CategorizationSource.NEIGHBOURS, Decimal("0.830"), "similar to 3", None),
            ("casa", "mercado"),
        ),
    ]:
        tx = Transaction(
            id=ids[0], tenant_id=ids[1], account_id=ids[2], booked_on=date(2026, 2, 28), description="x",
            payee="", amount=Money(minor, code), splits=splits, created_at=at, updated_at=at,
            status=TransactionStatus.RECONCILED, source=TransactionSource.MANUAL, tags=tags,
            categorization=categorization, transfer_id=ids[5],
        )  # fmt: skip
        assert transaction_shown(transaction_view(tx)) == transaction(tx)
        assert msgspec.json.encode(transaction_shown(transaction_view(tx))) == msgspec.json.encode(transaction(tx))
