"""The transaction filters, declared once for every route that takes them.

The list (``GET /api/transactions``) and the exports (``GET /api/exports/transactions`` and its OFX
twin) select transactions the same way. :func:`transaction_filters` is a Litestar dependency, so its
query parameters appear in each route's OpenAPI and in the names the unknown-parameter guard
(:mod:`~valorize_entrypoints.api.query_params`) accepts; a route adds only what is its own (the
list's ``cursor`` and ``limit``).

The list, a hot read, does not have Litestar read them: :func:`page_query` converts its whole
query string into :class:`PageQuery` at once (``route_checks.ANSWER``, docs/api.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any, Literal, TypeAlias
from uuid import UUID

import msgspec
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter
from msgspec import Meta

from valorize_core.model.listing import DEFAULT_PAGE_SIZE, MAX_FILTER_TAGS, MAX_PAGE_SIZE
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_entrypoints.api.deps import Reader

__all__ = ["FILTERS", "Filters", "PageQuery", "page_query", "transaction_filters"]


def transaction_filters(
    actor: Reader,
    account_id: FromQuery[UUID | None] = None,
    category_id: Annotated[UUID | None, QueryParameter(description="includes subcategories")] = None,
    date_from: FromQuery[date | None] = None,
    date_to: FromQuery[date | None] = None,
    q: Annotated[str | None, QueryParameter(max_length=200, description="words starting words")] = None,
    amount_min: Annotated[str | None, QueryParameter(max_length=40)] = None,
    amount_max: Annotated[str | None, QueryParameter(max_length=40)] = None,
    uncategorized: FromQuery[bool] = False,
    import_id: FromQuery[UUID | None] = None,
    tag: Annotated[
        list[str] | None,
        QueryParameter(max_items=MAX_FILTER_TAGS, description="repeatable: ?tag=trip&tag=work"),
    ] = None,
    tag_match: Annotated[
        Literal["any", "all"], QueryParameter(description="carries any of the tags, or all of them")
    ] = "any",
) -> TransactionQuery:
    """The caller's filters as a query of their own tenant (first page, default size)."""
    return TransactionQuery(
        actor.tenant_id, account_id, category_id, date_from, date_to, q, amount_min, amount_max, uncategorized,
        import_id, tags=tuple(tag or ()), tag_match=tag_match,
    )  # fmt: skip


FILTERS = {"filters": Provide(transaction_filters, sync_to_thread=False)}
"""A route's ``dependencies`` entry: the route then takes ``filters: Filters``."""

Filters: TypeAlias = NamedDependency[TransactionQuery]


class PageQuery(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The list route's query string as one msgspec conversion: the filters and ``cursor`` and
    ``limit``, with the types and constraints :func:`transaction_filters` and the route declare
    to Litestar (``tests/api/test_page_query.py`` holds both readings equal, and these names the
    route's). A name the route declares and this does not is not dropped: the conversion fails
    and Litestar reads the query."""

    account_id: UUID | None = None
    category_id: UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    q: Annotated[str, Meta(max_length=200)] | None = None
    amount_min: Annotated[str, Meta(max_length=40)] | None = None
    amount_max: Annotated[str, Meta(max_length=40)] | None = None
    uncategorized: bool = False
    import_id: UUID | None = None
    tag: Annotated[list[str], Meta(max_length=MAX_FILTER_TAGS)] | None = None
    tag_match: Literal["any", "all"] = "any"
    cursor: Annotated[str, Meta(max_length=200)] | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE


_SEQUENCES = frozenset({"tag"})  # the parameters that repeat; of any other, the last value counts (as in Litestar)


def page_query(tenant_id: UUID, pairs: Iterable[tuple[str, str]]) -> TransactionQuery | None:
    """The list route's query of ``tenant_id`` from its query string's (name, value) pairs as
    Litestar parses them (``request.query_params``: a blank value is an empty string), the last
    value of a repeated scalar counting, as in Litestar; or ``None`` when they do not convert:
    Litestar then reads them itself and answers with its own error."""
    given: dict[str, Any] = {}
    for name, value in pairs:
        if name in _SEQUENCES:
            given.setdefault(name, []).append(value)
        else:
            given[name] = value
    try:
        read = msgspec.convert(given, PageQuery, strict=False)
    except msgspec.ValidationError:
        return None
    return TransactionQuery(
        tenant_id, read.account_id, read.category_id, read.date_from, read.date_to, read.q, read.amount_min,
        read.amount_max, read.uncategorized, read.import_id, read.cursor, read.limit, tuple(read.tag or ()),
        read.tag_match,
    )  # fmt: skip
