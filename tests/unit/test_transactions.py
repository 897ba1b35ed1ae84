import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valorize_core.model.errors import UnbalancedSplits, ValidationError
from valorize_core.model.ledger import Ledger, postings_of
from valorize_core.model.money import Money
from valorize_core.model.transactions import Categorization, Split, Transaction
from valorize_core.testing import balanced_transactions, money, split_amounts

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def make(amount: Money, splits: tuple[Split, ...]) -> Transaction:
    return Transaction(
        id=uuid.uuid4(), tenant_id=uuid.uuid4(), account_id=uuid.uuid4(), booked_on=date(2026, 1, 2),
        description="x", payee="x", amount=amount, splits=splits, created_at=NOW, updated_at=NOW,
    )  # fmt: skip


@given(balanced_transactions())
def test_generated_splits_always_sum(tx: Transaction) -> None:
    assert sum(s.amount.minor for s in tx.splits) == tx.amount.minor


@given(money("BRL", -(10**9), 10**9), st.data())
def test_any_exact_split_is_accepted_and_any_other_rejected(amount: Money, data: st.DataObject) -> None:
    parts = data.draw(split_amounts(amount))
    tx = make(amount, tuple(Split(None, p) for p in parts))
    assert sum(s.amount.minor for s in tx.splits) == amount.minor
    off = data.draw(st.integers(-1000, 1000).filter(bool))
    broken = [*parts[:-1], Money(parts[-1].minor + off, "BRL")]
    with pytest.raises(UnbalancedSplits):
        make(amount, tuple(Split(None, p) for p in broken))


def test_split_currency_must_match() -> None:
    with pytest.raises(UnbalancedSplits):
        make(Money(100, "BRL"), (Split(None, Money(100, "USD")),))


def test_needs_a_split_and_a_sane_date() -> None:
    with pytest.raises(ValidationError):
        make(Money(100, "BRL"), ())
    with pytest.raises(ValidationError):
        Transaction(
            id=uuid.uuid4(), tenant_id=uuid.uuid4(), account_id=uuid.uuid4(), booked_on="2026-01-01",  # type: ignore[arg-type]
            description="x", payee="x", amount=Money(1, "BRL"), splits=(Split(None, Money(1, "BRL")),),
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip


@given(balanced_transactions(category_ids=[uuid.uuid4(), uuid.uuid4(), None]))
def test_every_transaction_posts_to_zero(tx: Transaction) -> None:
    assert sum(p.amount.minor for p in postings_of(tx)) == 0


@given(st.lists(balanced_transactions(currency_code="BRL"), max_size=20))
def test_ledger_of_any_transactions_balances(txs: list[Transaction]) -> None:
    ledger = Ledger([], txs)
    assert all(v == 0 for v in ledger.trial_balance().values())
    for entry in ledger.entries().values():
        assert sum(p.amount.minor for p in entry) == 0


@given(balanced_transactions(), st.sampled_from([None, uuid.UUID(int=7)]))
def test_with_category_equals_the_validated_replace(tx: Transaction, category_id: uuid.UUID | None) -> None:
    """``with_category`` skips validating again; what it makes is what the validating
    constructor makes of the same fields."""
    why = Categorization.none("  a  reason ")
    changed = tx.with_category(category_id, why)
    memo = tx.splits[0].memo if len(tx.splits) == 1 else ""
    assert changed == replace(tx, splits=(Split(category_id, tx.amount, memo),), categorization=why)
    assert changed.category_id == category_id
    with pytest.raises(ValidationError):
        tx.with_category(category_id, "memory")  # type: ignore[arg-type]
