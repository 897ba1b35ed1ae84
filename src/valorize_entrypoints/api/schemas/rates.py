"""Exchange rates on the wire."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta, Struct

from valorize_core.model.rates import Rate
from valorize_core.use_cases.actions.set_rates import MAX_MANUAL_RATES, RatesImported
from valorize_core.use_cases.queries.tenant_settings import TenantSettings
from valorize_entrypoints.api.schemas.common import CurrencyCode, RateText

__all__ = [
    "RateIn",
    "RateOut",
    "RatesImportOut",
    "RatesIn",
    "SettingsIn",
    "SettingsOut",
    "rate",
    "rates_imported",
    "settings",
]


class RateIn(Struct, forbid_unknown_fields=True):
    base: CurrencyCode
    quote: CurrencyCode
    on: date
    rate: RateText


class RatesIn(Struct, forbid_unknown_fields=True):
    rates: Annotated[list[RateIn], Meta(min_length=1, max_length=MAX_MANUAL_RATES)]


class RateOut(Struct):
    base: str
    quote: str
    on: date
    rate: str
    source: str
    scope: Literal["tenant", "global"]


class RatesImportOut(Struct):
    stored: int
    first: date
    last: date
    skipped: list[str]


def rate(r: Rate) -> RateOut:
    return RateOut(r.base.code, r.quote.code, r.on, format(r.value, "f"), r.source, "global" if r.shared else "tenant")


def rates_imported(result: RatesImported, skipped: tuple[str, ...]) -> RatesImportOut:
    return RatesImportOut(result.stored, result.first, result.last, list(skipped))


class SettingsIn(Struct, forbid_unknown_fields=True):
    """``reporting_currency``: what reports convert into when a request names none (``null``: none)."""

    reporting_currency: CurrencyCode | None


class SettingsOut(Struct):
    reporting_currency: str | None


def settings(found: TenantSettings) -> SettingsOut:
    code = found.reporting_currency
    return SettingsOut(None if code is None else code.code)
