"""Actions: store exchange rates a person gives (manual entry) or a source offers (an import)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from valorize_core.model.errors import ValidationError
from valorize_core.model.money import currency
from valorize_core.model.rates import Rate, parse_rate
from valorize_core.model.read_scopes import CONVERSION, SHARED
from valorize_core.ports.rates import RateSource
from valorize_core.use_cases.actions._shared import check_date
from valorize_core.use_cases.context import Ports

__all__ = [
    "MAX_MANUAL_RATES",
    "GivenRates",
    "ImportRates",
    "NewRates",
    "RateImport",
    "RateInput",
    "RatesImported",
    "SetRates",
]

MAX_MANUAL_RATES = 500
MAX_IMPORTED_RATES = 500_000  # the ECB's whole history is about 200,000


@dataclass(frozen=True, slots=True)
class RateInput:
    """On ``on``, 1 ``base`` = ``rate`` ``quote`` (``rate`` a decimal string)."""

    base: str
    quote: str
    on: date
    rate: str


@dataclass(frozen=True, slots=True)
class NewRates:
    """Rates a person enters for their tenant (source ``manual``)."""

    tenant_id: UUID
    rates: tuple[RateInput, ...]


class SetRates:
    """Stores a tenant's own rates, replacing those of the same pair and day; all or none."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: NewRates) -> list[Rate]:
        """Validate every rate, then store them in one unit of work."""
        if not 1 <= len(command.rates) <= MAX_MANUAL_RATES:
            raise ValidationError.for_field("rates", f"give 1 to {MAX_MANUAL_RATES} rates")
        rates = []
        for i, item in enumerate(command.rates):
            try:
                rates.append(
                    Rate(
                        currency(item.base),
                        currency(item.quote),
                        check_date(item.on, "on"),
                        parse_rate(item.rate),
                        "manual",
                    )
                )
            except ValidationError as exc:
                raise exc.prefixed(f"rates[{i}]") from None
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.rates.put(rates)
            uow.retires(CONVERSION)  # the tenant's own rates: only its conversions read them
            await uow.commit()
        return rates


@dataclass(frozen=True, slots=True)
class RateImport:
    """Rates from ``source`` for ``tenant_id``, or as the global defaults when it is ``None``
    (operators only: the CLI)."""

    tenant_id: UUID | None
    source: RateSource


@dataclass(frozen=True, slots=True)
class RatesImported:
    """How many rates were stored, over which days."""

    stored: int
    first: date
    last: date


@dataclass(frozen=True, slots=True)
class GivenRates:
    """A :class:`RateSource` of rates already in hand (an uploaded file, parsed)."""

    given: tuple[Rate, ...]
    name: str = "manual"

    async def rates(self) -> Sequence[Rate]:
        """The rates given."""
        return self.given


OPERATOR_UNIT = UUID(int=0)
"""The unit of work global rates are written in: no tenant's (no tenant has the nil id)."""


class ImportRates:
    """Stores what a :class:`RateSource` offers, all or none."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: RateImport) -> RatesImported:
        """Read the source, then store its rates in one unit of work."""
        offered: Sequence[Rate] = await command.source.rates()
        if not offered:
            raise ValidationError.for_field("file", "the source offered no rate")
        if len(offered) > MAX_IMPORTED_RATES:
            raise ValidationError.for_field("file", f"at most {MAX_IMPORTED_RATES} rates at once")
        shared = command.tenant_id is None
        # already valid Rates: only the scope changes (and re-validating 200,000 costs a second)
        rates = [r if r.shared == shared else replace(r, shared=shared) for r in offered]
        async with self._ports.uow(command.tenant_id or OPERATOR_UNIT) as uow:
            await uow.rates.put(rates)
            # Every tenant converts with the global rates: retire every tenant's reads; a
            # tenant's own rates change only its conversions.
            uow.retires(SHARED if shared else CONVERSION)
            await uow.commit()
        days = [r.on for r in rates]
        return RatesImported(len(rates), min(days), max(days))
