"""Actions: set or drop a low-balance alert, and check the projected balances against them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from valorize_core.model.events import BalanceProjectedLow
from valorize_core.model.forecast import DEFAULT_ALERT_DAYS, BalanceAlert, project
from valorize_core.use_cases.actions._shared import parse_amount
from valorize_core.use_cases.context import Ports
from valorize_core.use_cases.lookups import require
from valorize_core.use_cases.queries.list_schedules import scheduled_flows

__all__ = ["AlertInput", "AlertRemoval", "BalanceCheck", "CheckBalances", "RemoveBalanceAlert", "SetBalanceAlert"]


@dataclass(frozen=True, slots=True)
class AlertInput:
    """Warn when ``account_id`` is projected below ``threshold`` (a decimal amount in the
    account's currency) within ``days`` days."""

    tenant_id: UUID
    account_id: UUID
    threshold: str
    days: int = DEFAULT_ALERT_DAYS


@dataclass(frozen=True, slots=True)
class AlertRemoval:
    """Back to the default alert (below zero within 30 days)."""

    tenant_id: UUID
    account_id: UUID


@dataclass(frozen=True, slots=True)
class BalanceCheck:
    """Check the tenant's projected balances from ``day``."""

    tenant_id: UUID
    day: date


class SetBalanceAlert:
    """Sets an account's alert."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: AlertInput) -> BalanceAlert:
        """Set it and return it."""
        async with self._ports.uow(command.tenant_id) as uow:
            account = await require(uow.accounts.get, command.account_id, "account")
            alert = BalanceAlert(account.id, parse_amount(command.threshold, account.currency, "threshold").minor,
                                 command.days)  # fmt: skip
            await uow.balance_alerts.put(alert)
            await uow.commit()
        return alert


class RemoveBalanceAlert:
    """Drops an account's alert."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: AlertRemoval) -> None:
        """Drop it (``NotFound`` when none was set)."""
        async with self._ports.uow(command.tenant_id) as uow:
            await uow.balance_alerts.remove(command.account_id)
            await uow.commit()


class CheckBalances:
    """Projects each open account over its alert's days (from current balances and active
    schedules) and records :class:`~valorize_core.model.events.BalanceProjectedLow` when it
    goes below the alert's threshold — once per account, first day below and threshold, so a
    dip is announced when it is first seen and again only if it moves or the threshold does.
    The event is notified (and reaches the realtime channel) like every event with a
    notification. Returns the events recorded."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def __call__(self, command: BalanceCheck) -> list[BalanceProjectedLow]:
        """Check and announce."""
        out: list[BalanceProjectedLow] = []
        async with self._ports.uow(command.tenant_id) as uow:
            accounts = [a for a in await uow.accounts.list() if not a.archived]
            alerts = {a.account_id: a for a in await uow.balance_alerts.list()}
            schedules = await uow.schedules.list()
            for account in accounts:
                alert = alerts.get(account.id, BalanceAlert(account.id, 0))
                flows = scheduled_flows(self._ports.recurrence, [s for s in schedules if s.account_id == account.id],
                                        command.day + timedelta(days=alert.days))  # fmt: skip
                (f,) = project(command.day, alert.days, {account.id: (account.balance.minor, account.currency.code)},
                               flows, thresholds={account.id: alert.threshold_minor})  # fmt: skip
                if f.below_on is None or not await uow.balance_alerts.announce(account.id, f.below_on,
                                                                               alert.threshold_minor):  # fmt: skip
                    continue
                event = self._ports.event(
                    BalanceProjectedLow, uow.tenant_id, account_id=str(account.id),
                    threshold_minor=alert.threshold_minor, lowest_minor=f.lowest_minor,
                    lowest_on=f.lowest_on.isoformat(), below_on=f.below_on.isoformat(), currency=f.currency,
                )  # fmt: skip
                uow.record(event)
                out.append(event)
            await uow.commit()
        return out
