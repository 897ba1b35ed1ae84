"""Transactions, transfers, category corrections and suggestions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType

from valorize_core.model.transaction_view import TransactionView
from valorize_core.model.transactions import Transaction, Transfer
from valorize_core.use_cases.categorization import Suggestion
from valorize_entrypoints.api.schemas.common import Amount, Day, ExternalId, MoneyOut, Payee, RateText, Tag, Text, money

__all__ = [
    "CategorizationOut",
    "CategorizeIn",
    "CorrectionIn",
    "CorrectionItem",
    "CorrectionsIn",
    "SplitIn",
    "SplitOut",
    "SuggestionOut",
    "SuggestionsIn",
    "SuggestionsOut",
    "TransactionIn",
    "TransactionOut",
    "TransactionPageOut",
    "TransactionPatch",
    "TransferIn",
    "TransferOut",
    "suggestion",
    "transaction",
    "transaction_shown",
    "transfer",
]


class SplitIn(Struct, forbid_unknown_fields=True):
    amount: Amount
    category_id: UUID | None = None
    memo: Text = ""


class TransactionIn(Struct, forbid_unknown_fields=True):
    # Either splits or a category_id, not both (create_transaction.build_splits).
    json_schema_extra: ClassVar[dict[str, Any]] = {
        "not": {"required": ["splits", "category_id"],
                "properties": {"splits": {"minItems": 1}, "category_id": {"type": "string"}}},
    }  # fmt: skip

    account_id: UUID
    booked_on: Day
    description: Text
    amount: Amount
    splits: Annotated[list[SplitIn], Meta(max_length=100)] = []
    category_id: UUID | None = None
    payee: Payee | None = None
    tags: Annotated[list[Tag], Meta(max_length=20)] = []
    status: Literal["pending", "posted", "reconciled"] = "posted"
    external_id: ExternalId | None = None


class TransactionPatch(Struct, forbid_unknown_fields=True):
    """Fields to change. ``category_id: null`` makes the transaction uncategorized."""

    # New splits, or a category for the whole amount: not both (update_transaction).
    json_schema_extra: ClassVar[dict[str, Any]] = {"not": {"required": ["splits", "category_id"]}}

    account_id: UUID | UnsetType = UNSET
    booked_on: Day | UnsetType = UNSET
    description: Text | UnsetType = UNSET
    payee: Payee | UnsetType = UNSET
    amount: Amount | UnsetType = UNSET
    splits: Annotated[list[SplitIn], Meta(max_length=100)] | UnsetType = UNSET
    category_id: UUID | UnsetType | None = UNSET
    tags: Annotated[list[Tag], Meta(max_length=20)] | UnsetType = UNSET
    status: Literal["pending", "posted", "reconciled"] | UnsetType = UNSET


class SplitOut(Struct):
    category_id: UUID | None
    amount: MoneyOut
    memo: str


class CategorizationOut(Struct):
    source: str
    confidence: str
    explanation: str
    rule_id: UUID | None


class TransactionOut(Struct):
    id: UUID
    account_id: UUID
    booked_on: date
    description: str
    payee: str
    amount: MoneyOut
    splits: list[SplitOut]
    tags: list[str]
    status: str
    source: str
    external_id: str | None
    categorization: CategorizationOut
    transfer_id: UUID | None
    import_id: UUID | None
    created_at: datetime
    updated_at: datetime


def transaction(t: Transaction) -> TransactionOut:
    """The response of a transaction. Positional, in the fields' order (a quarter cheaper than
    by keyword, on every row of a page); ``test_transaction_out_fields`` holds the order."""
    c = t.categorization
    return TransactionOut(
        t.id, t.account_id, t.booked_on, t.description, t.payee, money(t.amount),
        [SplitOut(s.category_id, money(s.amount), s.memo) for s in t.splits], list(t.tags), t.status.value,
        t.source.value, t.external_id, CategorizationOut(c.source.value, str(c.confidence), c.explanation, c.rule_id),
        t.transfer_id, t.import_id, t.created_at, t.updated_at,
    )  # fmt: skip


def transaction_shown(v: TransactionView) -> TransactionOut:
    """The response of a transaction's view (a list page): the same struct :func:`transaction` makes
    of the transaction, from values the adapter already spelled; ``test_transaction_views`` holds
    the two equal."""
    cur = v.currency
    return TransactionOut(
        v.id, v.account_id, v.booked_on, v.description, v.payee, MoneyOut(v.amount, cur),
        [SplitOut(c, MoneyOut(a, cur), m) for c, a, m in v.splits], list(v.tags), v.status, v.source, v.external_id,
        CategorizationOut(v.cat_source, v.cat_confidence, v.cat_explanation, v.cat_rule_id),
        v.transfer_id, v.import_id, v.created_at, v.updated_at,
    )  # fmt: skip


class TransactionPageOut(Struct):
    items: list[TransactionOut]
    next_cursor: str | None


class TransferIn(Struct, forbid_unknown_fields=True):
    """Between accounts of two currencies, give ``to_amount`` (what arrives) or ``rate``."""

    from_account_id: UUID
    to_account_id: UUID
    amount: Amount
    booked_on: Day
    description: Text = "Transfer"
    to_amount: Amount | None = None
    rate: RateText | None = None


class TransferOut(Struct):
    """``rate``: the implied rate, inflow units per outflow unit (1 within one currency)."""

    id: UUID
    outflow: TransactionOut
    inflow: TransactionOut
    rate: str = "1"


def transfer(t: Transfer) -> TransferOut:
    return TransferOut(t.id, transaction(t.outflow), transaction(t.inflow), format(t.rate.normalize(), "f"))


class CorrectionIn(Struct, forbid_unknown_fields=True):
    category_id: UUID


class CorrectionItem(Struct, forbid_unknown_fields=True):
    transaction_id: UUID
    category_id: UUID


class CorrectionsIn(Struct, forbid_unknown_fields=True):
    """Corrections applied together (all or none), each transaction at most once."""

    corrections: Annotated[list[CorrectionItem], Meta(min_length=1, max_length=500)]


class SuggestionsIn(Struct, forbid_unknown_fields=True):
    """Transactions to suggest categories for (each at most once), and how many each."""

    transaction_ids: Annotated[list[UUID], Meta(min_length=1, max_length=200)]
    limit: Annotated[int, Meta(ge=1, le=10)] = 3


class SuggestionOut(Struct):
    category_id: UUID
    source: str
    confidence: str
    explanation: str
    rule_id: UUID | None


def suggestion(s: Suggestion) -> SuggestionOut:
    return SuggestionOut(s.category_id, s.source.value, str(s.confidence), s.explanation, s.rule_id)


class CategorizeIn(Struct, forbid_unknown_fields=True):
    account_id: UUID | None = None


class SuggestionsOut(Struct):
    transaction_id: UUID
    suggestions: list[SuggestionOut]
