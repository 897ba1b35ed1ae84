"""Query: a tenant's settings (its reporting currency)."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.money import Currency
from valorize_core.use_cases.context import Ports

__all__ = ["GetTenantSettings", "SettingsQuery", "TenantSettings"]


@dataclass(frozen=True, slots=True)
class SettingsQuery:
    tenant_id: UUID


@dataclass(frozen=True, slots=True)
class TenantSettings:
    """``reporting_currency``: what reports convert into when a request names no currency."""

    reporting_currency: Currency | None


class GetTenantSettings:
    """Reads the tenant's settings."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, query: SettingsQuery) -> TenantSettings:
        """Run the query."""
        async with self._ports.uow.reading(query.tenant_id) as uow:
            return TenantSettings(await uow.rates.reporting_currency())
