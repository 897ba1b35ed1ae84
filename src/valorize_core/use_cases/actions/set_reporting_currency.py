"""Action: set (or clear) the currency a tenant's reports convert into by default."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from valorize_core.model.money import Currency, active_currency
from valorize_core.model.read_scopes import CONVERSION
from valorize_core.use_cases.context import Ports

__all__ = ["ReportingCurrencyChange", "SetReportingCurrency"]


@dataclass(frozen=True, slots=True)
class ReportingCurrencyChange:
    """``currency``: an active ISO 4217 code, or ``None`` to report in native currencies only."""

    tenant_id: UUID
    currency: str | None


class SetReportingCurrency:
    """Stores the tenant's reporting currency."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: ReportingCurrencyChange) -> Currency | None:
        """Validate and store it; return it."""
        code = None if command.currency is None else active_currency(command.currency)
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.rates.set_reporting_currency(code)
            uow.retires(CONVERSION)  # only reports and the budget status convert
            await uow.commit()
        return code
