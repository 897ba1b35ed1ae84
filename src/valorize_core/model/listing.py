"""Transaction filters and keyset (cursor) pagination.

Lists are ordered newest first by ``(booked_on, id)``; a page ends with the key of its last
row, and the next page starts strictly after it. No OFFSET: page 10,000 costs what page 1 does.
Cursors are opaque to clients (URL-safe base64 of the key).
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.text import clean_tag
from valorize_core.model.transactions import Transaction

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_FILTER_TAGS",
    "MAX_PAGE_SIZE",
    "Page",
    "PageKey",
    "TransactionFilter",
    "decode_cursor",
    "encode_cursor",
    "search_tokens",
    "sort_key",
]

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_FILTER_TAGS = 20

PageKey = tuple[date, UUID]

_WORD = re.compile(r"[^\W_]+")


def search_tokens(text: str) -> tuple[str, ...]:
    """The words search sees: case- and accent-folded, split on anything not a letter or digit.

    ``"Padaria São João #12"`` → ``("padaria", "sao", "joao", "12")``. Adapters index exactly
    these tokens, so every adapter searches alike.
    """
    if text.isascii():  # nothing to decompose, no accent to drop (a bank's line, mostly): skip the per-character pass
        return tuple(dict.fromkeys(_WORD.findall(text.casefold())))
    decomposed = unicodedata.normalize("NFKD", text)
    folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return tuple(dict.fromkeys(_WORD.findall(folded)))


def transaction_tokens(tx: Transaction) -> tuple[str, ...]:
    """The searchable words of a transaction: its description and payee."""
    return search_tokens(f"{tx.description} {tx.payee}")


@dataclass(frozen=True, slots=True)
class TransactionFilter:
    """Which transactions to list; every given criterion must hold.

    ``category_ids`` matches a transaction with any split in those categories; ``text`` matches
    when every word of it starts a word of the description or payee, ignoring case and accents
    (``"net sao"`` finds ``"NETFLIX SÃO PAULO"``); amounts are signed decimal bounds in each
    transaction's own currency units, inclusive. ``tags_any`` matches a transaction carrying at
    least one of those tags, ``tags_all`` one carrying every one of them (both may be given).
    ``uncategorized`` lists what still needs a
    category: a transaction with an uncategorized split, transfer legs left out (a transfer
    moves money between the tenant's own accounts and takes no category).
    """

    account_ids: tuple[UUID, ...] = ()
    category_ids: tuple[UUID, ...] = ()
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    uncategorized: bool = False
    import_id: UUID | None = None
    tags_any: tuple[str, ...] = ()
    tags_all: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("tags_any", "tags_all"):
            tags = tuple(sorted({clean_tag(t, name) for t in getattr(self, name)}))
            if len(tags) > MAX_FILTER_TAGS:
                raise ValidationError.for_field(name, f"filter by at most {MAX_FILTER_TAGS} tags")
            object.__setattr__(self, name, tags)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ValidationError.for_field("date_from", "must not be after date_to")
        if self.amount_min is not None and self.amount_max is not None and self.amount_min > self.amount_max:
            raise ValidationError.for_field("amount_min", "must not be above amount_max")
        if self.text is not None:
            if len(self.text) > 200:
                raise ValidationError.for_field("q", "search text is at most 200 characters")
            words = search_tokens(self.text)
            if len(words) > 10:
                raise ValidationError.for_field("q", "search at most 10 words")
            object.__setattr__(self, "text", " ".join(words) or None)

    @property
    def words(self) -> tuple[str, ...]:
        """The search words (already folded)."""
        return tuple(self.text.split()) if self.text else ()

    def matches(self, tx: Transaction) -> bool:
        """The reference semantics every repository must implement."""
        if self.account_ids and tx.account_id not in self.account_ids:
            return False
        if self.category_ids and not any(s.category_id in self.category_ids for s in tx.splits):
            return False
        if self.date_from and tx.booked_on < self.date_from:
            return False
        if self.date_to and tx.booked_on > self.date_to:
            return False
        if self.text:
            have = transaction_tokens(tx)
            if not all(any(h.startswith(w) for h in have) for w in self.words):
                return False
        if self.amount_min is not None and tx.amount.to_decimal() < self.amount_min:
            return False
        if self.amount_max is not None and tx.amount.to_decimal() > self.amount_max:
            return False
        if self.uncategorized and (tx.is_transfer or not tx.is_uncategorized):
            return False
        if self.tags_any and not set(self.tags_any) & set(tx.tags):
            return False
        if self.tags_all and not set(self.tags_all) <= set(tx.tags):
            return False
        return self.import_id is None or tx.import_id == self.import_id


def sort_key(tx: Transaction) -> PageKey:
    """The listing order key (sorted descending)."""
    return (tx.booked_on, tx.id)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of transactions and the key to continue after, if there is more."""

    items: list[Transaction]
    next_key: PageKey | None


def encode_cursor(key: PageKey) -> str:
    """An opaque cursor for a page key."""
    raw = f"{key[0].isoformat()}|{key[1]}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> PageKey:
    """The page key inside a cursor, or a validation error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        day, _, ident = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
        return date.fromisoformat(day), UUID(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationError.for_field("cursor", "is not a valid cursor") from None
