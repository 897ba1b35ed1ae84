"""Ports: where exchange rates are kept (inside the unit of work) and where they come from."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Protocol

from valorize_core.model.money import Currency
from valorize_core.model.rates import Rate

__all__ = ["RateRepository", "RateSource"]


class RateRepository(Protocol):
    """The unit's tenant's own rates and the global defaults every tenant reads, and the tenant's
    reporting currency."""

    async def put(self, rates: Sequence[Rate]) -> int:
        """Store ``rates``, replacing the value and source of a rate already kept for the same
        pair and day; a rate with ``shared`` set is a global default, else the tenant's own.
        Returns how many were stored."""
        ...

    async def between(self, start: date, end: date, currencies: Collection[str] | None = None) -> list[Rate]:
        """The tenant's and the global rates dated ``start``..``end`` (inclusive) — of pairs of
        ``currencies`` only, when given — ordered by day, pair, then global before own."""
        ...

    async def reporting_currency(self) -> Currency | None:
        """The tenant's reporting currency (what reports convert into by default), if set."""
        ...

    async def set_reporting_currency(self, code: Currency | None) -> None:
        """Set (or, with ``None``, clear) the tenant's reporting currency."""
        ...


class RateSource(Protocol):
    """Where rates come from: a published file (the ECB's), a provider, a person."""

    @property
    def name(self) -> str:
        """What the rates' ``source`` says (``ecb``, ``manual``)."""
        ...

    async def rates(self) -> Sequence[Rate]:
        """The rates this source offers now (``ValidationError`` when what it read is malformed)."""
        ...
