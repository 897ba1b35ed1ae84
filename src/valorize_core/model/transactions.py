"""Transactions, their splits, transfers and categorization provenance.

The invariant that everything else leans on: **the splits of a transaction sum exactly to its
amount**, in the same currency. It is checked in the constructor, so an unbalanced
transaction cannot exist in memory (and the Postgres adapter backs it with a trigger).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from uuid import UUID

from valorize_core.model.errors import UnbalancedSplits, ValidationError
from valorize_core.model.money import Money
from valorize_core.model.payees import MAX_PAYEE
from valorize_core.model.text import clean_external_id, clean_tag, clean_text, parse_choice

__all__ = [
    "MAX_SPLITS",
    "Categorization",
    "CategorizationSource",
    "Split",
    "Transaction",
    "TransactionSource",
    "TransactionStatus",
    "Transfer",
    "normalize_tags",
]

MAX_SPLITS = 100
MAX_TAGS = 20


class TransactionStatus(enum.StrEnum):
    """Lifecycle of a transaction as the bank sees it."""

    PENDING = "pending"
    POSTED = "posted"
    RECONCILED = "reconciled"


class TransactionSource(enum.StrEnum):
    """How the transaction entered Valorize."""

    MANUAL = "manual"
    IMPORT = "import"
    RECURRING = "recurring"


class CategorizationSource(enum.StrEnum):
    """Which stage of the categorizer chose the category."""

    MANUAL = "manual"
    RULE = "rule"
    MEMORY = "memory"
    NEIGHBOURS = "neighbours"
    NONE = "none"


CONFIDENCE_PLACES = Decimal("0.001")  # a confidence's places (the column is numeric(4,3))
_SET_BY_USER = "set by the user"
_NOTHING_MATCHED = "no rule, memory or neighbour matched"


@dataclass(frozen=True, slots=True)
class Categorization:
    """Why a transaction has its category: source, confidence in [0, 1] and an explanation."""

    source: CategorizationSource
    confidence: Decimal
    explanation: str
    rule_id: UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", parse_choice(CategorizationSource, self.source, "source"))
        if not isinstance(self.confidence, Decimal) or not (0 <= self.confidence <= 1):
            raise ValidationError.for_field("confidence", "must be a decimal between 0 and 1")
        # three places, as stored and shown by every adapter ("0.750", never "0.75" on one and
        # "0.750" on another)
        object.__setattr__(self, "confidence", self.confidence.quantize(CONFIDENCE_PLACES, rounding=ROUND_HALF_EVEN))
        object.__setattr__(self, "explanation", clean_text(self.explanation, "explanation"))

    @classmethod
    def manual(cls, explanation: str = _SET_BY_USER) -> Categorization:
        """A category chosen by a person: full confidence."""
        if explanation == _SET_BY_USER and cls is Categorization:
            return _MANUAL  # immutable: one for all (each write made and checked its own)
        return cls(CategorizationSource.MANUAL, Decimal(1), explanation)

    @classmethod
    def none(cls, explanation: str = _NOTHING_MATCHED) -> Categorization:
        """Nothing matched."""
        if explanation == _NOTHING_MATCHED and cls is Categorization:
            return _NONE
        return cls(CategorizationSource.NONE, Decimal(0), explanation)


_MANUAL = Categorization(CategorizationSource.MANUAL, Decimal(1), _SET_BY_USER)
_NONE = Categorization(CategorizationSource.NONE, Decimal(0), _NOTHING_MATCHED)


@dataclass(frozen=True, slots=True)
class Split:
    """A part of a transaction's amount assigned to one category (or to none)."""

    category_id: UUID | None
    amount: Money
    memo: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Money):
            raise ValidationError.for_field("amount", "must be money")
        object.__setattr__(self, "memo", clean_text(self.memo, "memo", 500))


def normalize_tags(tags: Iterable[object]) -> tuple[str, ...]:
    """Tags cleaned, de-duplicated and sorted."""
    if isinstance(tags, str):
        raise ValidationError.for_field("tags", "must be a list of tags")
    cleaned = sorted({clean_tag(t) for t in tags})
    if len(cleaned) > MAX_TAGS:
        raise ValidationError.for_field("tags", f"at most {MAX_TAGS} tags")
    return tuple(cleaned)


@dataclass(frozen=True, slots=True)
class Transaction:
    """Money moving in or out of an account on a date, split across categories."""

    id: UUID
    tenant_id: UUID
    account_id: UUID
    booked_on: date
    description: str
    payee: str
    amount: Money
    splits: tuple[Split, ...]
    created_at: datetime
    updated_at: datetime
    status: TransactionStatus = TransactionStatus.POSTED
    source: TransactionSource = TransactionSource.MANUAL
    tags: tuple[str, ...] = ()
    external_id: str | None = None
    fingerprint: str | None = None
    categorization: Categorization = field(default_factory=Categorization.none)
    transfer_id: UUID | None = None
    import_id: UUID | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.booked_on, date) or isinstance(self.booked_on, datetime):
            raise ValidationError.for_field("booked_on", "must be a date")
        object.__setattr__(self, "description", clean_text(self.description, "description", 500))
        object.__setattr__(self, "payee", clean_text(self.payee, "payee", MAX_PAYEE))
        if not isinstance(self.amount, Money):
            raise ValidationError.for_field("amount", "must be money")
        object.__setattr__(self, "status", parse_choice(TransactionStatus, self.status, "status"))
        object.__setattr__(self, "source", parse_choice(TransactionSource, self.source, "source"))
        object.__setattr__(self, "tags", normalize_tags(self.tags))
        if self.external_id is not None:
            object.__setattr__(self, "external_id", clean_external_id(self.external_id))
        splits = tuple(self.splits)
        object.__setattr__(self, "splits", splits)
        check_splits(self.amount, splits)

    @property
    def category_id(self) -> UUID | None:
        """The category when every split shares one, else ``None``."""
        ids = {s.category_id for s in self.splits}
        return ids.pop() if len(ids) == 1 else None

    @property
    def is_split(self) -> bool:
        """True when the amount is divided across more than one split."""
        return len(self.splits) > 1

    @property
    def is_uncategorized(self) -> bool:
        """True when any part of the amount has no category."""
        return any(s.category_id is None for s in self.splits)

    @property
    def is_transfer(self) -> bool:
        """True for one leg of a transfer between two of the tenant's accounts."""
        return self.transfer_id is not None

    def with_category(self, category_id: UUID | None, categorization: Categorization) -> Transaction:
        """The same transaction as a single split in ``category_id``.

        Not validated again (an import makes one per row): every field but the two given was
        checked when this one was made, the split is checked on its own and holds the whole
        amount, and a :class:`Categorization` checks itself."""
        if not isinstance(categorization, Categorization):
            raise ValidationError.for_field("categorization", "must be a categorization")
        split = Split(category_id, self.amount, self.splits[0].memo if len(self.splits) == 1 else "")
        changed = object.__new__(Transaction)
        for name in _TRANSACTION_FIELDS:
            object.__setattr__(changed, name, getattr(self, name))
        object.__setattr__(changed, "splits", (split,))
        object.__setattr__(changed, "categorization", categorization)
        return changed


_TRANSACTION_FIELDS = tuple(f.name for f in fields(Transaction))


def check_splits(amount: Money, splits: tuple[Split, ...]) -> None:
    """Raise :class:`UnbalancedSplits` unless ``splits`` sum exactly to ``amount``."""
    if not splits:
        raise ValidationError.for_field("splits", "a transaction needs at least one split")
    if len(splits) > MAX_SPLITS:
        raise ValidationError.for_field("splits", f"at most {MAX_SPLITS} splits")
    for i, split in enumerate(splits):
        if not isinstance(split, Split):
            raise ValidationError.for_field(f"splits.{i}", "must be a split")
        if split.amount.currency != amount.currency:
            raise UnbalancedSplits.for_field(
                f"splits.{i}.amount", f"must be in {amount.currency.code} like the transaction"
            )
    total = sum(s.amount.minor for s in splits)
    if total != amount.minor:
        diff = Money(total - amount.minor, amount.currency)
        raise UnbalancedSplits.for_field(
            "splits",
            f"splits sum to {Money(total, amount.currency)}, not {amount} (off by {diff})",
        )


@dataclass(frozen=True, slots=True)
class Transfer:
    """Money moved between two of the tenant's accounts: two legs with opposite amounts — or,
    between accounts of two currencies, a positive amount out of one and a positive amount in
    the other, whose ratio is the :attr:`rate` the exchange was made at."""

    id: UUID
    tenant_id: UUID
    outflow: Transaction
    inflow: Transaction

    def __post_init__(self) -> None:
        if self.outflow.account_id == self.inflow.account_id:
            raise ValidationError.for_field("to_account_id", "a transfer needs two different accounts")
        if self.outflow.amount.minor >= 0 or self.inflow.amount.minor <= 0:
            raise UnbalancedSplits.for_field("amount", "transfer legs must move a positive amount out and in")
        if not self.cross_currency and self.outflow.amount.minor != -self.inflow.amount.minor:
            raise UnbalancedSplits.for_field(
                "amount", "transfer legs must move a positive amount out and the same amount in"
            )
        if self.outflow.transfer_id != self.id or self.inflow.transfer_id != self.id:
            raise ValidationError.for_field("transfer_id", "both legs must link to the transfer")

    @property
    def cross_currency(self) -> bool:
        """True when the legs are in two currencies (an exchange)."""
        return self.outflow.amount.currency != self.inflow.amount.currency

    @property
    def rate(self) -> Decimal:
        """The implied rate: units of the inflow's currency per unit of the outflow's, exact to
        12 significant digits (half-even); 1 within one currency. Derived from the two stored
        amounts, which are what the exchange was."""
        with localcontext(Context(prec=12, rounding=ROUND_HALF_EVEN)):
            return self.inflow.amount.to_decimal() / -self.outflow.amount.to_decimal()
