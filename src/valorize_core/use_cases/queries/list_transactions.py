"""Query: one page of transactions, filtered, newest first, with a cursor to the next."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import TypeVar
from uuid import UUID

from valorize_core.model.categories import CategoryTree
from valorize_core.model.errors import ValidationError
from valorize_core.model.listing import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    PageKey,
    TransactionFilter,
    decode_cursor,
    encode_cursor,
)
from valorize_core.model.money import Money
from valorize_core.model.text import clean_tag
from valorize_core.model.transaction_view import TransactionView
from valorize_core.model.transactions import Transaction
from valorize_core.ports.transactions import TransactionRepository
from valorize_core.use_cases.context import Ports

__all__ = ["ListTransactions", "TransactionPage", "TransactionQuery", "TransactionViewPage"]

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class TransactionQuery:
    """Filters for the list. ``category_id`` includes its subcategories; amounts are decimal strings;
    ``tags`` match when the transaction carries any of them (``tag_match="any"``) or all of them
    (``"all"``)."""

    tenant_id: UUID
    account_id: UUID | None = None
    category_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    text: str | None = None
    amount_min: str | None = None
    amount_max: str | None = None
    uncategorized: bool = False
    import_id: UUID | None = None
    cursor: str | None = None
    limit: int = DEFAULT_PAGE_SIZE
    tags: tuple[str, ...] = ()
    tag_match: str = "any"


@dataclass(frozen=True, slots=True)
class TransactionPage:
    """A page and the cursor of the next one (``None`` on the last page)."""

    items: list[Transaction]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class TransactionViewPage:
    """A page of views and the cursor of the next one (``None`` on the last page)."""

    items: list[TransactionView]
    next_cursor: str | None


class ListTransactions:
    """Keyset-paginated transaction list."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: TransactionQuery) -> TransactionPage:
        """Run the query."""
        page = await self._read(query, lambda rows, flt, after: rows.page(flt, after, query.limit))
        if page is None:
            return TransactionPage([], None)
        return TransactionPage(page.items, encode_cursor(page.next_key) if page.next_key else None)

    async def views(self, query: TransactionQuery) -> TransactionViewPage:
        """The same page for showing it: the read model's views (``transaction_view``), no entities."""
        page = await self._read(query, lambda rows, flt, after: rows.page_view(flt, after, query.limit))
        if page is None:
            return TransactionViewPage([], None)
        return TransactionViewPage(page.items, encode_cursor(page.next_key) if page.next_key else None)

    async def _read(
        self,
        query: TransactionQuery,
        read: Callable[[TransactionRepository, TransactionFilter, PageKey | None], Awaitable[P]],
    ) -> P | None:
        """The query's filter checked and built, and ``read`` of it; ``None`` when nothing can match."""
        if isinstance(query.limit, bool) or not isinstance(query.limit, int) or not 1 <= query.limit <= MAX_PAGE_SIZE:
            raise ValidationError.for_field("limit", f"must be between 1 and {MAX_PAGE_SIZE}")
        after = decode_cursor(query.cursor) if query.cursor else None
        # An account that is not the tenant's simply matches nothing: no lookup needed first.
        account_ids: tuple[UUID, ...] = () if query.account_id is None else (query.account_id,)
        async with self._ports.uow.reading(query.tenant_id) as uow:
            category_ids: tuple[UUID, ...] = ()
            if query.category_id is not None:
                tree = CategoryTree(await uow.categories.list())
                if query.category_id not in tree:
                    return None
                category_ids = tuple(sorted(tree.descendants(query.category_id)))
            if query.tag_match not in ("any", "all"):
                raise ValidationError.for_field("tag_match", "must be 'any' or 'all'")
            every = query.tag_match == "all"
            tags = tuple(clean_tag(t, "tag") for t in query.tags)
            bounds = {name: _decimal(getattr(query, name), name) for name in ("amount_min", "amount_max")}
            flt = TransactionFilter(
                account_ids=account_ids,
                category_ids=category_ids,
                date_from=query.date_from,
                date_to=query.date_to,
                text=query.text,
                uncategorized=query.uncategorized,
                import_id=query.import_id,
                tags_any=() if every else tags,
                tags_all=tags if every else (),
                **bounds,
            )
            return await read(uow.transactions, flt, after)


def _decimal(raw: str | None, name: str) -> Decimal | None:
    if raw is None:
        return None
    try:
        Money.parse(raw, "CLF")  # an amount as the API spells it, with at most four places (CLF, UYW)
        return Decimal(raw)
    except (ValidationError, InvalidOperation):
        raise ValidationError.for_field(name, f"{raw!r} is not a decimal amount") from None
