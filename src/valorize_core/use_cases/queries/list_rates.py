"""Query: the exchange rates a tenant sees (its own and the global defaults) over some days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import currency
from valorize_core.model.rates import Rate
from valorize_core.use_cases.context import Ports

__all__ = ["MAX_RATE_DAYS", "ListRates", "RatesQuery"]

MAX_RATE_DAYS = 366


@dataclass(frozen=True, slots=True)
class RatesQuery:
    """Rates dated ``start``..``end`` (at most a year), of pairs among ``currencies`` when given."""

    tenant_id: UUID
    start: date
    end: date
    currencies: tuple[str, ...] = ()


class ListRates:
    """Lists stored rates, by day and pair, the global default before the tenant's own."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: RatesQuery) -> list[Rate]:
        """Run the query."""
        if query.start > query.end:
            raise ValidationError.for_field("date_from", "must not be after date_to")
        if (query.end - query.start).days >= MAX_RATE_DAYS:
            raise ValidationError.for_field("date_to", f"list at most {MAX_RATE_DAYS} days at once")
        codes = {currency(c).code for c in query.currencies} or None
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return await uow.rates.between(query.start, query.end, codes)
