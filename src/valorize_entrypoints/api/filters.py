"""The transaction filters, declared once for every route that takes them.

The list (``GET /api/transactions``) and the exports (``GET /api/exports/transactions`` and its OFX
twin) select transactions the same way. :func:`transaction_filters` is a Litestar dependency, so its
query parameters appear in each route's OpenAPI and in the names the unknown-parameter guard
(:mod:`~valorize_entrypoints.api.query_params`) accepts; a route adds only what is its own (the
list's ``cursor`` and ``limit``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, TypeAlias
from uuid import UUID

from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery, QueryParameter

from valorize_core.model.listing import MAX_FILTER_TAGS
from valorize_core.use_cases.queries.list_transactions import TransactionQuery
from valorize_entrypoints.api.deps import Reader

__all__ = ["FILTERS", "Filters", "transaction_filters"]


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
