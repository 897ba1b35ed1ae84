"""``Transaction.with_category`` skips re-validation (catimport): whatever valid transaction it is
given, it makes the transaction a validated construction makes, and a wrong categorization is
still refused."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import Money
from valorize_core.model.transactions import (
    Categorization,
    CategorizationSource,
    Split,
    Transaction,
    TransactionSource,
    TransactionStatus,
)

NOW = datetime(2026, 12, 5, tzinfo=UTC)
CATEGORIES = [uuid.UUID(int=1), uuid.UUID(int=2), None]


@st.composite
def transactions(draw: st.DrawFn) -> Transaction:
    code = draw(st.sampled_from(["BRL", "JPY", "BHD"]))
    parts = draw(st.lists(st.integers(-(10**9), 10**9), min_size=1, max_size=4))
    splits = tuple(
        Split(draw(st.sampled_from(CATEGORIES)), Money(p, code), draw(st.sampled_from(["", "memo", " a  b "])))
        for p in parts
    )
    return Transaction(
        id=uuid.uuid4(), tenant_id=uuid.UUID(int=9), account_id=uuid.UUID(int=8),
        booked_on=draw(st.dates(date(2000, 1, 1), date(2030, 1, 1))),
        description=draw(st.sampled_from(["LOJA", "  Padaria  São João ", ""])), payee="",
        amount=Money(sum(parts), code), splits=splits, created_at=NOW, updated_at=NOW,
        status=draw(st.sampled_from(list(TransactionStatus))), source=draw(st.sampled_from(list(TransactionSource))),
        tags=tuple(draw(st.lists(st.sampled_from(["b", "a", "x:y"]), max_size=3))),
        external_id=draw(st.sampled_from([None, "FIT-1"])), fingerprint=draw(st.sampled_from([None, "fp"])),
        transfer_id=draw(st.sampled_from([None, uuid.UUID(int=5)])),
    )  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    tx=transactions(),
    category=st.sampled_from(CATEGORIES),
    confidence=st.decimals(0, 1, places=4),
    source=st.sampled_from(list(CategorizationSource)),
)
def test_with_category_is_the_validated_transaction(
    tx: Transaction, category: uuid.UUID | None, confidence: Decimal, source: CategorizationSource
) -> None:
    categorization = Categorization(source, confidence, " why  not ")
    before = replace(tx)
    made = tx.with_category(category, categorization)
    memo = tx.splits[0].memo if len(tx.splits) == 1 else ""
    validated = replace(tx, splits=(Split(category, tx.amount, memo),), categorization=categorization)
    assert made == validated
    assert made.category_id == category
    assert sum(s.amount.minor for s in made.splits) == made.amount.minor
    assert tx == before  # the original is untouched
    assert replace(made) == made  # validating it again changes nothing


@pytest.mark.parametrize("wrong", [None, "rule", {"source": "rule"}])
def test_with_category_refuses_what_is_not_a_categorization(wrong: object) -> None:
    m = Money(-100, "BRL")
    tx = Transaction(
        uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), date(2026, 1, 1), "x", "", m, (Split(None, m),), NOW, NOW
    )
    with pytest.raises(ValidationError):
        tx.with_category(None, wrong)  # type: ignore[arg-type]
