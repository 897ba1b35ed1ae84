"""Contract of the exchange-rate repository: a tenant's own rates, the global defaults, both read."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from valorize_core.model.money import currency
from valorize_core.model.rates import Rate
from valorize_core.ports.unit_of_work import UnitOfWork
from valorize_core.testing.contracts.base import PortsContract
from valorize_core.use_cases.context import Ports

__all__ = ["RateRepositoryContract"]


class RateRepositoryContract(PortsContract):
    def _day(self) -> date:
        # Global rates outlive a test: each test writes on days of its own.
        return date(1900, 1, 1) + timedelta(days=self.new_id().int % 30_000)

    @staticmethod
    def _rate(base: str, quote: str, on: date, value: str, *, shared: bool = False, source: str = "test") -> Rate:
        return Rate(currency(base), currency(quote), on, Decimal(value), source, shared)

    def test_own_rates_round_trip_and_replace(self, ports: Ports) -> None:
        t, day = self.new_tenant(ports), self._day()
        first = [self._rate("EUR", "BRL", day, "6.1234"), self._rate("EUR", "USD", day, "1.05")]
        assert self.write(ports, t, lambda uow: uow.rates.put(first)) == 2
        again = [self._rate("EUR", "BRL", day, "6.20", source="manual")]
        self.write(ports, t, lambda uow: uow.rates.put(again))
        found = self.read(ports, t, lambda uow: uow.rates.between(day, day))
        assert [(r.pair, r.value, r.source, r.shared) for r in found] == [
            (("EUR", "BRL"), Decimal("6.2"), "manual", False),
            (("EUR", "USD"), Decimal("1.05"), "test", False),
        ]
        assert self.read(ports, t, lambda uow: uow.rates.between(day, day, {"EUR", "USD"}))[0].pair == ("EUR", "USD")
        assert (
            self.read(ports, t, lambda uow: uow.rates.between(day + timedelta(days=1), day + timedelta(days=9))) == []
        )

    def test_a_tenants_rates_are_its_own_and_global_ones_everyones(self, ports: Ports) -> None:
        a, b, day = self.new_tenant(ports), self.new_tenant(ports), self._day()
        self.write(ports, a, lambda uow: uow.rates.put([self._rate("EUR", "JPY", day, "160")]))
        self.write(ports, a, lambda uow: uow.rates.put([self._rate("EUR", "JPY", day, "158.12", shared=True)]))
        seen_by_a = self.read(ports, a, lambda uow: uow.rates.between(day, day))
        assert [(r.value, r.shared) for r in seen_by_a] == [(Decimal("158.12"), True), (Decimal(160), False)]
        seen_by_b = self.read(ports, b, lambda uow: uow.rates.between(day, day))
        assert [(r.value, r.shared) for r in seen_by_b] == [(Decimal("158.12"), True)]

    def test_rates_roll_back_with_the_unit(self, ports: Ports) -> None:
        t, day = self.new_tenant(ports), self._day()

        async def put_then_fail(uow: UnitOfWork) -> None:
            await uow.rates.put(
                [self._rate("EUR", "GBP", day, "0.83", shared=True), self._rate("EUR", "GBP", day, "1")]
            )
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            self.write(ports, t, put_then_fail)
        assert self.read(ports, t, lambda uow: uow.rates.between(day, day)) == []
